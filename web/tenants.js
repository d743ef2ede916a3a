// Tenants: plan, quotas against what each uses now, push usage, and the month's SLA report.
import { useLive, useFetch, query } from './api.js';
import { html, Table, Section, LiveDot, Loading, ErrorNote, KeyValues, navigate, name } from './ui.js';

function Meter({ used, limit, label }) {
  if (limit === undefined || limit === null) return html`<span>${used} <span class="muted">(no limit)</span></span>`;
  const pct = limit > 0 ? Math.min(100, Math.round((100 * used) / limit)) : 100;
  return html`<span class="meter"><meter min="0" max=${limit} value=${used} high=${limit * 0.8} optimum="0" aria-label=${label}></meter>
    ${used} / ${limit} <span class="muted">(${pct}%)</span></span>`;
}

function Sla({ tenant, month }) {
  const sla = useFetch(`/v1/tenants/${tenant.metadata.id}/sla${query({ month })}`, [month]);
  if (sla.error) return html`<${ErrorNote} error=${sla.error} />`;
  if (!sla.data) return html`<${Loading} what="the SLA report" />`;
  return html`<${Table} caption=${`SLA report ${month}`} testid="sla" empty="No probed instance this month."
    head=${['Instance', 'Product', 'Plan', 'Uptime', 'Target', 'Met', 'Down (min)', 'Maintenance (min)', 'Credit']}
    rows=${sla.data.instances.map((r) => ({ key: r.instance, cells: [r.name || r.instance, r.product, r.plan || '—', `${r.uptime_percent}%`,
      r.sla_target_percent === null ? '—' : `${r.sla_target_percent}%`, r.met === null ? '—' : html`<span class=${'badge ' + (r.met ? 'ok' : 'bad')}>${r.met ? 'met' : 'missed'}</span>`,
      r.down_minutes, r.maintenance_minutes, r.credit_percent ? `${r.credit_percent}%` : '—'] }))} />`;
}

export function TenantsView({ route }) {
  const tenants = useLive('tenants');
  const inst = useLive('instances');
  const plans = useFetch('/v1/plans?limit=1000');
  const workspaces = useFetch('/v1/workspaces?limit=1000');
  const month = route.params.month || new Date().toISOString().slice(0, 7);
  if (!tenants.loaded) return html`<h1>Tenants</h1><${ErrorNote} error=${tenants.error} /><${Loading} what="tenants" />`;
  const planOf = (n) => plans.data?.items.find((p) => p.metadata.name === n);
  return html`<div class="title-row"><h1>Tenants</h1><${LiveDot} live=${tenants.live} />
      <label class="field inline-field"><span>SLA month</span><input type="month" value=${month} onChange=${(e) => navigate(['tenants'], { month: e.target.value })} /></label></div>
    ${tenants.items.map((t) => {
      const plan = planOf(t.spec.plan);
      const ent = plan?.spec.entitlements || {};
      const mine = inst.items.filter((o) => o.metadata.tenant === t.metadata.id);
      const memory = mine.reduce((sum, o) => sum + (planOf(o.spec.plan)?.spec.memory_mb || 0), 0);
      const pushed = (workspaces.data?.items || []).filter((w) => w.metadata.tenant === t.metadata.id)
        .reduce((sum, w) => sum + (w.status?.push?.month === month ? w.status.push.sent || 0 : 0), 0);
      return html`<${Section} key=${t.metadata.id} title=${html`${t.spec.display_name || name(t)} <span class="muted">${name(t)}</span>`}>
        <div class="grid2">
          <${KeyValues} pairs=${[['Id', html`<code>${t.metadata.id}</code>`], ['Plan', t.spec.plan], ['Contact', t.spec.contact_email],
            ['Labels', Object.entries(t.metadata.labels || {}).map(([k, v]) => `${k}=${v}`).join(', ')],
            ['SLA target', plan?.spec.sla?.target_percent !== undefined ? `${plan.spec.sla.target_percent}%` : '—']]} />
          <${KeyValues} pairs=${[['Instances', html`<${Meter} used=${mine.length} limit=${ent.max_instances} label="instances used of the quota" />`],
            ['Memory (MB)', html`<${Meter} used=${memory} limit=${ent.max_total_memory_mb} label="memory used of the quota" />`],
            ['Push this month', html`<${Meter} used=${pushed} limit=${ent.monthly_push_notifications} label="push notifications used of the quota" />`]]} />
        </div>
        <h3>SLA report ${month}</h3>
        <${Sla} tenant=${t} month=${month} />
      <//>`;
    })}`;
}
