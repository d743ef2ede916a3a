// The dashboard in a real browser: Debian's chromium, driven by playwright-core, against the
// real `hangar serve` on a loopback port with a sample fleet of real processes. Each step does
// what a user would and checks what they would see; every wait is bounded. A screenshot of
// each view is saved to $HANGAR_SCREENSHOTS (docs/screenshots in the README come from here).
//
//   node tests/browser/dashboard.test.mjs   (HANGAR_BIN=build/src/hangar; CTest sets both)
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';

// A zip of stored (uncompressed) files, as an Apps-Engine package needs no more.
function storedZip(files) {
  const table = Array.from({ length: 256 }, (_, n) => { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; return c >>> 0; });
  const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = table[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
  const locals = []; const centrals = []; let offset = 0;
  for (const [name, text] of files) {
    const data = Buffer.from(text); const fname = Buffer.from(name); const sum = crc(data);
    const local = Buffer.alloc(30); local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt32LE(sum, 14);
    local.writeUInt32LE(data.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(fname.length, 26);
    const central = Buffer.alloc(46); central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6);
    central.writeUInt32LE(sum, 16); central.writeUInt32LE(data.length, 20); central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(fname.length, 28); central.writeUInt32LE(offset, 42);
    locals.push(local, fname, data); centrals.push(central, fname); offset += 30 + fname.length + data.length;
  }
  const cd = Buffer.concat(centrals); const end = Buffer.alloc(22); end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8); end.writeUInt16LE(files.length, 10); end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const here = path.dirname(new URL(import.meta.url).pathname);
const root = path.resolve(here, '../..');
const require = createRequire(path.join(root, 'web/package.json'));
const { chromium } = require('playwright-core');

const BIN = process.env.HANGAR_BIN || path.join(root, 'build/src/hangar');
const SHOTS = process.env.HANGAR_SCREENSHOTS || path.join(os.tmpdir(), 'hangar-screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const data = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-browser-'));
fs.mkdirSync(SHOTS, { recursive: true });

let server;
let browser;
let admin; // the API as the platform admin, once the server is up
const problems = []; // console errors and page errors: a CSP violation or a crash fails the run

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, f, ms = 30000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(200);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

function step(name) {
  console.log(`-- ${name}`);
}

async function startServer() {
  const log = fs.openSync(path.join(data, 'hangar.log'), 'a');
  server = spawn(BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', data, '--self-scrape', '2s'], { stdio: ['ignore', log, log] });
  const port = await until('hangar to listen', () => {
    const m = fs.readFileSync(path.join(data, 'hangar.log'), 'utf8').match(/"msg":"listening".*"port":(\d+)/);
    if (server.exitCode !== null) throw new Error(`hangar exited ${server.exitCode}`);
    return m && Number(m[1]);
  });
  return `http://127.0.0.1:${port}`;
}

function client(base, token) {
  return async (method, p, body, headers = {}) => {
    const res = await fetch(base + p, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch { json = text; }
    return { status: res.status, body: json, headers: res.headers };
  };
}

async function main() {
  step('start hangar and load the sample fleet');
  const base = await startServer();
  const adminToken = fs.readFileSync(path.join(data, 'admin-token'), 'utf8').trim();
  admin = client(base, adminToken);
  execFileSync(BIN, ['apply', '-f', path.join(here, 'fleet.yaml')], { env: { ...process.env, HANGAR_SERVER: base, HANGAR_TOKEN: adminToken }, stdio: 'pipe' });
  const tenants = (await admin('GET', '/v1/tenants')).body.items;
  const acme = tenants.find((t) => t.metadata.name === 'acme').metadata.id;
  const viewer = (await admin('POST', '/v1/tokens', { role: 'viewer', tenant: acme, name: 'browser-viewer' })).body.token;
  const operator = (await admin('POST', '/v1/tokens', { role: 'operator', tenant: acme, name: 'browser-intake' })).body.token;
  assert.match(viewer, /^hgr_/);
  const instances = await until('three instances Running', async () => {
    const items = (await admin('GET', '/v1/instances')).body.items;
    return items.length === 3 && items.every((o) => o.status?.phase === 'Running') && items;
  }, 60000);
  const chat = instances.find((o) => o.metadata.name === 'chat' && o.metadata.tenant === acme);

  // Two alerts from outside (PagerDuty Events v2): one to silence, one whose page to acknowledge.
  for (const [cls, summary] of [['DiskFilling', 'Disk 91% full on chat'], ['CheckoutErrors', 'Checkout errors above 5%']]) {
    const r = await client(base, operator)('POST', '/v1/intake/events', {
      routing_key: operator, event_action: 'trigger', dedup_key: `browser-${cls}`,
      payload: { summary, source: 'chat', severity: 'error', class: cls },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
  }
  await until('two pages', async () => (await admin('GET', '/v1/pages')).body.items.length >= 2, 30000);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const shot = async (name, p = page, fullPage = false) => { await p.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage }); };
  const confirm = async (p = page) => {
    const dialog = p.locator('dialog[open]');
    await dialog.waitFor();
    await dialog.locator('button[type=submit]').click();
    await dialog.waitFor({ state: 'detached', timeout: 1 }).catch(() => {});
    await until('the dialog to close', async () => {
      if ((await p.locator('dialog[open]').count()) === 0) return true;
      const error = p.locator('dialog[open] .error');
      if (await error.count()) throw new Error(`the dialog says: ${await error.textContent()}`);
      return false;
    }, 10000);
  };

  step('the dashboard is served with its security headers');
  const index = await fetch(base + '/');
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-security-policy'), /script-src 'self' 'sha256-/);
  const etag = (await fetch(base + '/ui/main.js')).headers.get('etag');
  assert.equal((await fetch(base + '/ui/main.js', { headers: { 'If-None-Match': etag } })).status, 304);
  assert.equal((await fetch(base + '/ui/nope.js')).status, 404);

  step('sign in: a wrong token is refused, the admin token gets in');
  await page.goto(base + '/');
  await page.getByLabel('API token').fill('hgr_not-a-real-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('That token is unknown, expired or revoked.').waitFor();
  await shot('sign-in');
  // The browser reports the refused whoami (401) as a console error: expected here, only here.
  for (let i = problems.length - 1; i >= 0; i--) if (/status of 401/.test(problems[i])) problems.splice(i, 1);
  await page.getByLabel('API token').fill(adminToken);
  await page.getByRole('button', { name: 'Sign in' }).click();

  step('the fleet: counts by phase, health, product and version');
  await page.getByRole('heading', { name: 'Fleet' }).waitFor();
  await until('the fleet to show 3 instances', async () => (await page.getByTestId('instance-count').textContent()) === '3');
  assert.match(await page.getByTestId('by-phase').textContent(), /Running\s*3/);
  assert.match(await page.getByTestId('by-product').textContent(), /workspace\s*2/);
  await until('health counts', async () => /healthy\s*3/.test(await page.getByTestId('by-health').textContent()), 20000);
  await until('the calm summary', async () => /All 3 instances are running and healthy/.test(await page.getByTestId('attention').textContent()));
  // What the summary claims when health is not probed (the simulated provisioner), and the
  // axis labels of sub-millisecond probe times: computed by the page's own modules.
  const claims = await page.evaluate(async () => {
    const { calmSummary } = await import('/ui/fleet.js');
    const { fmtTicks } = await import('/ui/ui.js');
    const running = (id, healthy) => ({
      metadata: { id },
      status: { phase: 'Running', conditions: healthy === undefined ? [] : [{ type: 'Health', status: healthy ? 'True' : 'False' }] },
    });
    return {
      unprobed: calmSummary([running('a'), running('b')]),
      mixed: calmSummary([running('a', true), running('b')]),
      ticks: fmtTicks([0.0010, 0.0012, 0.0014, 0.0016], 's', 0.0002),
    };
  });
  assert.equal(claims.unprobed, 'Nothing needs attention: 2 instances running; health not probed for 2.');
  assert.equal(claims.mixed, 'Nothing needs attention: 2 instances running; 1 healthy; health not probed for 1.');
  assert.equal(new Set(claims.ticks).size, claims.ticks.length, `axis labels repeat: ${claims.ticks}`);
  await shot('fleet');

  step('the instance list filters by the URL');
  await page.goto(base + '/#/instances?product=redis');
  await until('one redis row', async () => (await page.getByTestId('instances').locator('tbody tr').count()) === 1);
  await shot('instances');

  step('open an instance: spec, status, conditions, events, charts, log');
  await page.goto(base + '/#/instances?product=workspace&q=acme');
  await page.getByRole('link', { name: 'chat' }).first().click();
  await until('the instance view', async () => page.url().includes(chat.metadata.id));
  await page.getByTestId('phase').waitFor();
  assert.equal(await page.getByTestId('phase').textContent(), 'Running');
  await until('the Ready condition', async () => /Ready\s*True/.test(await page.getByTestId('conditions').textContent()));
  await until('the log tail', async () => (await page.getByTestId('log').textContent()) !== '(empty)', 20000);
  await until('a chart with samples', async () => (await page.locator('.chart canvas').count()) >= 1, 30000);
  // A chart is either a plot or the "No samples yet" note, never an empty grid under the note.
  for (const fig of await page.locator('figure.chart').all()) {
    const note = /No samples yet/.test(await fig.textContent());
    assert.equal(await fig.locator('canvas').count() === 0, note, `chart "${await fig.locator('figcaption').textContent()}"`);
  }
  // The limit itself, not only how it is enforced (cgroup2, cgroup1, rlimit).
  assert.match(await page.locator('main').textContent(), /Memory limit\s*\d+ MiB/);
  await shot('instance', page, true);

  step('restart it and watch the phase change live');
  await page.evaluate(() => {
    window.__phases = [];
    const seen = () => {
      const t = document.querySelector('[data-testid=phase]')?.textContent;
      if (t && window.__phases[window.__phases.length - 1] !== t) window.__phases.push(t);
    };
    new MutationObserver(seen).observe(document.body, { subtree: true, childList: true, characterData: true });
    seen();
  });
  const restartsBefore = chat.status?.restarts ?? 0;
  await page.getByTestId('restart').click();
  await page.locator('dialog[open]').getByText('clients see it go away').waitFor();
  await confirm();
  await until('a phase other than Running, then Running again', async () => {
    const phases = await page.evaluate(() => window.__phases);
    return phases.length >= 3 && phases[phases.length - 1] === 'Running';
  }, 45000);
  console.log(`   phases seen: ${(await page.evaluate(() => window.__phases)).join(' → ')}`);
  const after = (await admin('GET', `/v1/instances/${chat.metadata.id}`)).body;
  assert.ok(after.spec.restart_nonce >= 1, 'the restart reached the spec');
  assert.ok((after.status.restarts ?? 0) >= restartsBefore);

  step('alerts: silence one from its labels, acknowledge a page');
  await page.getByRole('link', { name: 'Alerts' }).click();
  const disk = page.getByTestId('alerts').locator('tr', { hasText: 'DiskFilling' });
  await disk.waitFor();
  await disk.getByTestId('silence').click();
  await page.locator('dialog[open]').getByLabel('Why').fill('known: the cleanup job is running');
  await confirm();
  await page.getByTestId('silences').locator('tr', { hasText: 'alertname="DiskFilling"' }).waitFor();
  const silences = (await admin('GET', '/v1/silences')).body.items;
  assert.equal(silences.length, 1);
  assert.ok(silences[0].spec.matchers.includes('alertname="DiskFilling"'), JSON.stringify(silences[0].spec));
  const pageRow = page.getByTestId('pages').locator('tr', { hasText: 'CheckoutErrors' }).or(page.getByTestId('pages').locator('tr', { hasText: 'Checkout errors' })).first();
  await pageRow.getByTestId('ack').click();
  await confirm();
  await until('the page acknowledged live', async () => /acknowledged/.test(await pageRow.textContent()));
  const pages = (await admin('GET', '/v1/pages')).body.items;
  assert.ok(pages.some((p) => p.status.state === 'acknowledged'), 'the API shows the acknowledgement');
  await shot('alerts');

  step('declare an incident, update it, write the post-mortem, resolve it and read it');
  await page.getByRole('link', { name: 'Incidents' }).click();
  await page.getByTestId('declare').click();
  await page.locator('dialog[open]').getByLabel('Tenant').selectOption({ label: 'acme' });
  await page.locator('dialog[open]').getByLabel('Title').fill('Checkout failing for Acme');
  await page.locator('dialog[open]').getByLabel('Severity').selectOption('P1');
  await confirm();
  await until('the incident view', async () => /#\/incidents\/inc_/.test(page.url()));
  await page.getByRole('heading', { name: 'Checkout failing for Acme' }).waitFor();
  await page.getByTestId('status-update').click();
  await page.locator('dialog[open]').getByLabel('Status').selectOption('identified');
  await page.locator('dialog[open]').getByLabel('What changed').fill('A bad config push; rolling back.');
  await confirm();
  await until('the status badge', async () => (await page.getByTestId('incident-status').textContent()) === 'identified');
  await until('the update on the timeline', async () => /rolling back/.test(await page.getByTestId('timeline').textContent()));
  await page.getByTestId('pm-root').fill('A **config push** disabled the payment provider.\n\n<img src=x onerror=alert(1)>');
  await page.getByTestId('pm-save').click();
  await page.getByText(/Saved at/).waitFor();
  await page.getByTestId('pm-tab-preview').click();
  assert.equal(await page.getByTestId('pm-preview').locator('strong').textContent(), 'config push');
  assert.equal(await page.getByTestId('pm-preview').locator('img').count(), 0, 'raw HTML in Markdown is shown as text');
  await page.getByTestId('resolve-incident').click();
  await confirm();
  await until('resolved', async () => (await page.getByTestId('incident-status').textContent()) === 'resolved');
  await page.getByTestId('pm-tab-full').click();
  await until('the full post-mortem', async () => /disabled the payment provider/.test(await page.getByTestId('pm-full').textContent()));
  await shot('incident', page, true);

  step('a rollout shows its progress live');
  await page.getByRole('link', { name: 'Rollouts' }).click();
  const r = await admin('POST', '/v1/rollouts', { metadata: { name: 'workspace-1-1' }, spec: { product: 'workspace', target_version: '1.1.0', waves: [100], max_unavailable: 2, health_gate_seconds: 1 } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  await page.getByRole('heading', { name: /workspace-1-1/ }).waitFor();
  await until('the rollout to reach 2/2 on the page', async () => (await page.getByTestId('rollout-progress').textContent()) === '2/2', 90000);
  await until('Completed', async () => /Completed/.test(await page.locator('section', { hasText: 'workspace-1-1' }).first().textContent()), 30000);
  await shot('rollouts');

  step('on-call: who now and next, the timeline');
  await page.goto(`${base}/#/oncall?tenant=${acme}`);
  await until('who is on call', async () => /alice|bob/.test(await page.getByTestId('oncall-now').textContent()));
  await page.locator('.timeline .shift').first().waitFor();
  await shot('oncall');

  step('tenants, workspaces, audit');
  await page.getByRole('link', { name: 'Tenants' }).click();
  await page.getByRole('heading', { name: /Acme Corporation/ }).waitFor();
  await page.getByTestId('sla').first().waitFor();
  await shot('tenants');
  await page.getByRole('link', { name: 'Workspaces' }).click();
  await page.getByTestId('pending').or(page.getByText('No server is waiting.')).first().waitFor();
  await shot('workspaces');
  step('an announcement written on its page, with its reach');
  await page.getByRole('link', { name: 'Announcements' }).click();
  await page.getByTestId('new-announcement').click();
  const dialog = page.locator('dialog[open]');
  await dialog.getByLabel('Name').fill('sunday-maintenance');
  await dialog.getByLabel('Title (optional)').fill('Maintenance on Sunday');
  await dialog.getByLabel('Text').fill('The cloud is **updated** on Sunday at 02:00 UTC.');
  await dialog.getByLabel('Severity').selectOption('warning');
  await confirm();
  await until('the announcement in the table', async () => /Maintenance on Sunday/.test(await page.getByTestId('announcements').textContent()));
  assert.match(await page.getByTestId('announcement-state').first().textContent(), /live/);
  const anns = (await admin('GET', '/v1/announcements')).body.items;
  assert.equal(anns.length, 1);
  assert.equal(anns[0].spec.severity, 'warning');
  assert.deepEqual(anns[0].spec.platforms, ['web', 'mobile']);
  await shot('announcements');
  step('the marketplace: publish an app from the page');
  await page.getByRole('link', { name: 'Marketplace' }).click();
  const pkg = storedZip([['app.json', JSON.stringify({ id: '5eed5eed-1111-4222-8333-944455556666', version: '1.0.0', requiredApiVersion: '^1.19.0',
    name: 'Standup Bot', classFile: 'App.js', description: 'Daily standups.', author: { name: 'Acme', homepage: 'https://acme.test', support: 'https://acme.test' } })],
    ['App.js', 'exports.App = class {};']]);
  await page.getByLabel('App package (.zip)').setInputFiles({ name: 'standup-bot.zip', mimeType: 'application/zip', buffer: pkg });
  await page.getByRole('button', { name: 'Publish' }).click();
  await until('published', async () => /standup-bot 1\.0\.0 published/.test((await page.getByTestId('published').textContent().catch(() => '')) || ''));
  await until('the app in the table', async () => /Standup Bot/.test(await page.getByTestId('apps').textContent()));
  await until('its version in the table', async () => /1\.0\.0/.test(await page.getByTestId('apps').textContent()));
  const listed = await fetch(`${base}/marketplace/v1/apps`, { headers: { 'X-Apps-Engine-Version': '1.45.0' } }).then((r) => r.json());
  assert.ok(listed.some((a) => a.latest.nameSlug === 'standup-bot'), 'the marketplace lists it');
  await page.getByTestId('no-installs').waitFor();
  await page.getByText('No requests yet.').waitFor();
  assert.equal(await page.getByTestId('requests').first().textContent(), '0');
  await shot('marketplace');
  step('usage: the built-in meters, a chart, and the entitlements');
  await page.getByRole('link', { name: 'Usage' }).click();
  await until('the meters table', async () => /instance_hours/.test(await page.getByTestId('meters').textContent()));
  await page.getByTestId('meter-chart').first().waitFor();
  const meterNames = (await admin('GET', '/api/v1/meters')).body.map((m) => m.slug);
  assert.ok(meterNames.includes('push_notifications'), 'the built-in meters are there');
  await shot('usage');
  await page.goto(`${base}/#/audit?action=instance.restart`);
  await until('the restart in the audit log', async () => /instance\.restart/.test(await page.getByTestId('audit').textContent()));
  await shot('audit');

  step('a viewer sees Acme only, and no write action anywhere');
  const vctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const vpage = await vctx.newPage();
  vpage.on('pageerror', (e) => problems.push(`viewer page error: ${e.message}`));
  await vpage.goto(base + '/');
  await vpage.getByLabel('API token').fill(viewer);
  await vpage.getByRole('button', { name: 'Sign in' }).click();
  await until('the viewer fleet', async () => (await vpage.getByTestId('instance-count').textContent()) === '2');
  assert.match(await vpage.getByTestId('whoami').textContent(), /viewer.*read-only/);
  // The tenant by its name, not its id.
  await until('the tenant name in the header', async () => /Acme Corporation/.test(await vpage.getByTestId('whoami').textContent()));
  assert.doesNotMatch(await vpage.getByTestId('whoami').textContent(), /ten_/);
  await vpage.goto(`${base}/#/instances/${chat.metadata.id}`);
  await vpage.getByTestId('phase').waitFor();
  await vpage.getByTestId('events').waitFor();
  for (const view of [`#/instances/${chat.metadata.id}`, '#/alerts', '#/incidents', '#/oncall', '#/rollouts', '#/workspaces']) {
    await vpage.goto(`${base}/${view}`);
    await vpage.locator('main h1').first().waitFor();
    await sleep(300);
    const writes = await vpage.locator('main button', { hasText: /^(Restart|Suspend|Resume|Resize|Upgrade|Silence|Acknowledge|Resolve|Declare incident|Post update|Add note|Assign role|Add override|Expire|Pause|Abort|Approve.*|Reject|Save draft|New registration token)$/ }).count();
    assert.equal(writes, 0, `a viewer sees a write button on ${view}`);
  }
  const globexChat = instances.find((o) => o.metadata.tenant !== acme);
  await vpage.goto(`${base}/#/instances/${globexChat.metadata.id}`);
  await vpage.getByText(/There is no instance/).waitFor();
  await vpage.goto(`${base}/#/fleet`);
  await until('the viewer fleet again', async () => (await vpage.getByTestId('instance-count').textContent()) === '2');
  await shot('viewer-fleet', vpage);

  step('a phone: one column, the menu button opens the navigation; the keyboard reaches the skip link');
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const ppage = await phone.newPage();
  await ppage.goto(base + '/');
  await ppage.getByLabel('API token').fill(adminToken);
  await ppage.getByRole('button', { name: 'Sign in' }).click();
  await ppage.getByTestId('instance-count').waitFor();
  assert.equal(await ppage.locator('nav#nav').isVisible(), false, 'the navigation is folded away on a phone');
  await ppage.getByRole('button', { name: 'Menu' }).click();
  assert.equal(await ppage.locator('nav#nav').isVisible(), true);
  await shot('phone', ppage);
  await ppage.reload();
  await ppage.getByTestId('instance-count').waitFor();
  await ppage.keyboard.press('Tab');
  assert.equal(await ppage.evaluate(() => document.activeElement?.textContent), 'Skip to content');

  assert.deepEqual(problems, [], 'no console errors, CSP violations or page errors');
  console.log(`ok: the dashboard works; screenshots in ${SHOTS}`);
}

let failed = false;
const guard = setTimeout(() => { console.error('the browser test ran over 300 s'); process.exit(1); }, 300000);
try {
  await main();
} catch (e) {
  failed = true;
  console.error(`FAILED: ${e.stack || e}`);
  try { console.error(fs.readFileSync(path.join(data, 'hangar.log'), 'utf8').split('\n').slice(-30).join('\n')); } catch { /* no log */ }
} finally {
  clearTimeout(guard);
  if (browser) await browser.close().catch(() => {});
  // Hangar leaves instances running when it stops (it adopts them on restart): delete them
  // through the API first, so the run leaves no process behind.
  if (admin && server && server.exitCode === null) {
    try {
      for (const o of (await admin('GET', '/v1/instances')).body.items || []) await admin('DELETE', `/v1/instances/${o.metadata.id}`);
      await until('every instance torn down', async () => ((await admin('GET', '/v1/instances')).body.items || []).length === 0, 60000);
    } catch (e) {
      console.error(`teardown: ${e.message}`);
      failed = true;
    }
  }
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await until('hangar to stop', async () => server.exitCode !== null || server.signalCode !== null, 20000).catch(() => server.kill('SIGKILL'));
  }
  fs.rmSync(data, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
