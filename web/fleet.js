// Fleet overview: counts by phase, health, version and product, and the instances that need
// someone first.
import { useLive, isAdmin, useTenantNames } from './api.js';
import { html, Badge, Time, Table, Section, LiveDot, Loading, ErrorNote, href, name } from './ui.js';

export function condition(o, type) {
  return (o.status?.conditions || []).find((c) => c.type === type);
}

// Why an instance needs attention, or '' when it does not. Worst first, for sorting.
export function trouble(o) {
  const phase = o.status?.phase || 'Pending';
  if (phase === 'Failed') return [0, o.status?.message || 'failed'];
  if (condition(o, 'CrashLoop')?.status === 'True') return [1, 'crash-looping'];
  if (condition(o, 'Health')?.status === 'False') return [2, condition(o, 'Health').message || 'health check failing'];
  if (condition(o, 'Ready')?.status === 'False' && phase === 'Running') return [3, condition(o, 'Ready').message || 'not ready'];
  if (o.metadata.deletion_requested_at) return [4, 'being deleted'];
  if (phase === 'Provisioning') return [5, 'provisioning'];
  if (o.status?.observed_generation !== undefined && o.status.observed_generation < o.metadata.generation) return [6, 'change in progress'];
  return null;
}

export function health(o) {
  const c = condition(o, 'Health');
  if (!c) return o.status?.phase === 'Running' ? 'unknown' : '—';
  return c.status === 'True' ? 'healthy' : 'unhealthy';
}

function counts(items, key) {
  const m = new Map();
  for (const o of items) {
    const k = key(o) ?? '—';
    m.set(k, (m.get(k) || 0) + 1);
  }
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
}

function CountCard({ title, entries, testid, link }) {
  return html`<section class="card count" data-testid=${testid}>
    <h2>${title}</h2>
    <ul>${entries.map(([k, n]) => html`<li><a href=${link(k)}><${Badge} value=${k} /></a> <strong>${n}</strong></li>`)}</ul>
  </section>`;
}

const instances = (n) => `${n} instance${n === 1 ? '' : 's'}`;

// What the fleet looks like when nothing needs attention, claiming only what is known: an
// instance whose health is not probed (no Health condition) is running, not "healthy".
export function calmSummary(items) {
  const n = items.length;
  if (!n) return 'No instances yet.';
  const running = items.filter((o) => o.status?.phase === 'Running');
  const healthy = running.filter((o) => health(o) === 'healthy').length;
  const unprobed = running.filter((o) => health(o) === 'unknown').length;
  if (running.length === n && healthy === n) return n === 1 ? 'The instance is running and healthy.' : `All ${n} instances are running and healthy.`;
  const others = counts(items.filter((o) => o.status?.phase !== 'Running'), (o) => (o.status?.phase || 'Pending').toLowerCase())
    .map(([phase, k]) => `${k} ${phase}`);
  const parts = [`${running.length ? instances(running.length) : 'no instance'} running${others.length ? ` (${others.join(', ')})` : ''}`];
  if (healthy) parts.push(`${healthy} healthy`);
  if (unprobed) parts.push(`health not probed for ${unprobed}`);
  return `Nothing needs attention: ${parts.join('; ')}.`;
}

export function FleetView() {
  const inst = useLive('instances');
  const alerts = useLive('alerts');
  const tenantName = useTenantNames();
  if (!inst.loaded) return html`<h1>Fleet</h1><${ErrorNote} error=${inst.error} /><${Loading} what="the fleet" />`;
  const items = inst.items;
  const attention = items.map((o) => [o, trouble(o)]).filter(([, t]) => t).sort((a, b) => a[1][0] - b[1][0]);
  const firing = alerts.items.filter((a) => a.status?.state === 'firing');
  return html`
    <div class="title-row"><h1>Fleet</h1><${LiveDot} live=${inst.live} /></div>
    <div class="stats">
      <div class="stat"><span class="big" data-testid="instance-count">${items.length}</span> instances</div>
      <div class="stat"><span class="big">${attention.length}</span> need attention</div>
      <div class="stat"><a href="#/alerts"><span class="big" data-testid="firing-count">${firing.length}</span> alerts firing</a></div>
      ${isAdmin() ? html`<div class="stat"><a href="#/tenants"><span class="big">${new Set(items.map((o) => o.metadata.tenant)).size}</span> tenants with instances</a></div>` : null}
    </div>
    <div class="grid4">
      <${CountCard} title="By phase" testid="by-phase" entries=${counts(items, (o) => o.status?.phase || 'Pending')} link=${(k) => href(['instances'], { phase: k })} />
      <${CountCard} title="By health" testid="by-health" entries=${counts(items, health)} link=${(k) => href(['instances'], { health: k })} />
      <${CountCard} title="By product" testid="by-product" entries=${counts(items, (o) => o.spec.product)} link=${(k) => href(['instances'], { product: k })} />
      <${CountCard} title="By version" testid="by-version" entries=${counts(items, (o) => `${o.spec.product} ${o.status?.version || o.spec.version || ''}`.trim())} link=${(k) => href(['instances'], { q: k.split(' ')[0] })} />
    </div>
    <${Section} title="Needs attention">
      <${Table} caption="Instances that need attention, worst first" testid="attention"
        empty=${calmSummary(items)}
        head=${['Instance', 'Tenant', 'Phase', 'Why', 'Since']}
        rows=${attention.map(([o, t]) => ({
          key: o.metadata.id,
          cells: [html`<a href=${href(['instances', o.metadata.id])}>${name(o)}</a>`, tenantName(o.metadata.tenant),
            html`<${Badge} value=${o.status?.phase || 'Pending'} />`, t[1], html`<${Time} at=${o.metadata.updated_at} />`],
        }))} />
    <//>`;
}
