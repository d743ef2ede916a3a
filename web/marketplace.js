// Marketplace: the apps the platform publishes, their versions, downloads, installs over time and
// the requests workspace users make for them. Publishing is an upload of the app's package
// (`hangar app publish FILE`, or the form here).
import { useState } from 'preact/hooks';
import { api, useLive, isAdmin, useTenantNames } from './api.js';
import { html, Badge, Time, Table, Section, LiveDot, Loading, ErrorNote, Chart, name } from './ui.js';

function Publish({ onDone }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const file = e.target.elements.package.files[0];
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const r = await api('POST', '/v1/apps:publish', undefined, { headers: { 'Content-Type': 'application/zip' }, body: file });
      setDone(`${r.app.metadata.name} ${r.release.spec.version} published`);
      e.target.reset();
      if (onDone) onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="inline-form" onSubmit=${submit} data-testid="publish-form">
    <label class="field"><span>App package (.zip)</span><input name="package" type="file" accept=".zip,application/zip" required /></label>
    <button type="submit" class="primary" disabled=${busy}>${busy ? 'Publishing…' : 'Publish'}</button>
    <${ErrorNote} error=${error} />
    ${done ? html`<p role="status" data-testid="published">${done}</p>` : null}
  </form>`;
}

// installs_by_day ({"2026-12-03": 2}) of the five most installed apps, as chart series over the
// last 30 days (a day without installs is 0).
function installSeries(apps) {
  const days = [];
  const today = new Date();
  for (let i = 29; i >= 0; i--) {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i));
    days.push([d.toISOString().slice(0, 10), d.getTime() / 1000]);
  }
  const total = (a) => Object.values(a.status?.installs_by_day || {}).reduce((n, v) => n + v, 0);
  return apps.filter((a) => total(a) > 0).sort((x, y) => total(y) - total(x)).slice(0, 5)
    .map((a) => ({ metric: { app: a.status?.display_name || name(a) }, values: days.map(([day, t]) => [t, a.status.installs_by_day[day] || 0]) }));
}

export function MarketplaceView() {
  const apps = useLive('apps');
  const releases = useLive('appreleases');  // live: a new version of a listed app shows at once
  const requests = useLive('apprequests');
  const tenantName = useTenantNames();
  if (!apps.loaded) return html`<h1>Marketplace</h1><${ErrorNote} error=${apps.error} /><${Loading} what="apps" />`;
  const byApp = new Map();
  for (const r of releases.items) {
    const list = byApp.get(r.spec.app) || [];
    list.push(r);
    byApp.set(r.spec.app, list);
  }
  const asked = new Map();
  for (const r of requests.items) {
    const n = asked.get(r.spec.app_id) || { total: 0, unseen: 0 };
    n.total += 1;
    if (!r.status?.seen) n.unseen += 1;
    asked.set(r.spec.app_id, n);
  }
  const appName = new Map(apps.items.map((a) => [a.status?.app_id, a.status?.display_name || name(a)]));
  const series = installSeries(apps.items);
  return html`<div class="title-row"><h1>Marketplace</h1><${LiveDot} live=${apps.live} /></div>
    <p class="muted">Workspaces install these apps from the marketplace (under /marketplace, or its own listener). Downloads and installs are counted as workspaces report them.</p>
    ${isAdmin() ? html`<${Section} title="Publish an app"><${Publish} /><//>` : null}
    <${Section} title="Apps">
      <${Table} caption="Published apps" testid="apps" empty="No apps yet."
        head=${['App', 'Versions', 'Newest', 'Private to', 'Price', 'State', 'Downloads', 'Installed in', 'Requests']}
        rows=${apps.items.map((a) => {
          const rel = (byApp.get(a.metadata.id) || []).sort((x, y) => (y.metadata.created_at || '').localeCompare(x.metadata.created_at || ''));
          const downloads = rel.reduce((n, r) => n + (r.status?.downloads || 0), 0);
          return { key: a.metadata.id, cells: [html`<strong>${a.status?.display_name || name(a)}</strong><br /><code class="muted">${a.status?.app_id}</code>`,
            rel.length, rel[0] ? html`${rel[0].spec.version} <span class="muted">(<${Time} at=${rel[0].metadata.created_at} />)</span>` : '—',
            a.spec.tenant ? tenantName(a.spec.tenant) : 'everyone', a.spec.price ? `${a.spec.price}` : 'free',
            html`<${Badge} value=${a.spec.yanked ? 'withdrawn' : 'live'} />`, html`<span data-testid="downloads">${downloads}</span>`,
            html`<span data-testid="installs">${a.status?.active_installs ?? 0}</span> workspace${a.status?.active_installs === 1 ? '' : 's'}`,
            html`<span data-testid="requests">${asked.get(a.status?.app_id)?.total || 0}</span>${asked.get(a.status?.app_id)?.unseen ? html` <span class="muted">(${asked.get(a.status?.app_id).unseen} unseen)</span>` : null}`] };
        })} />
    <//>
    <${Section} title="Installs over time">
      ${series.length ? html`<${Chart} title="Installs per day, last 30 days" result=${series} label=${(m) => m.app} />`
        : html`<p class="muted" data-testid="no-installs">No installs in the last 30 days.</p>`}
    <//>
    <${Section} title="Requests from workspace users">
      <${Table} caption="App requests" testid="app-requests" empty="No requests yet."
        head=${['App', 'Workspace', 'Asked by', 'Note', 'Seen by an admin', 'Requester told', 'Asked']}
        rows=${[...requests.items].sort((x, y) => (y.status?.requested_at || '').localeCompare(x.status?.requested_at || '')).slice(0, 100).map((r) => ({
          key: r.metadata.id,
          cells: [appName.get(r.spec.app_id) || html`<code>${r.spec.app_id}</code>`, html`<code>${r.spec.workspace}</code>`,
            r.spec.requester?.name || r.spec.requester?.username || r.spec.requester?.id, r.spec.message || html`<span class="muted">—</span>`,
            html`<${Badge} value=${r.status?.seen ? 'seen' : 'unseen'} />`, r.status?.notification_sent ? 'yes' : 'not yet',
            html`<${Time} at=${r.status?.requested_at} />`],
        }))} />
    <//>`;
}
