// Usage: each meter's usage over a range in daily (or hourly, monthly) windows of a time zone,
// per subject and group, from the metering API (OpenMeter's shape), and the entitlements of a
// tenant with their balance. Platform admins see every tenant's usage; a tenant its own.
import { useState } from 'preact/hooks';
import { useFetch, isAdmin, useTenantNames, session } from './api.js';
import { html, Table, Section, Loading, ErrorNote, Chart, Badge } from './ui.js';

function rangeOf(days) {
  const to = new Date();
  to.setUTCSeconds(0, 0);
  const from = new Date(to.getTime() - days * 86400 * 1000);
  return { from: from.toISOString(), to: to.toISOString() };
}

function MeterChart({ meter, days, window, tz }) {
  const { from, to } = rangeOf(days);
  const q = new URLSearchParams({ from, to, windowSize: window, windowTimeZone: tz });
  if (isAdmin()) q.append('groupBy', 'subject');
  const r = useFetch(`/api/v1/meters/${encodeURIComponent(meter.slug)}/query?${q}`, [days, window, tz]);
  const tenantName = useTenantNames();
  if (r.error) return html`<${ErrorNote} error=${r.error} />`;
  if (!r.data) return html`<${Loading} what="usage" />`;
  // One series per subject (the five largest), points at window starts.
  const bySubject = new Map();
  for (const row of r.data.data) {
    const key = row.subject || 'all';
    const list = bySubject.get(key) || [];
    list.push([Date.parse(row.windowStart) / 1000, String(row.value)]);
    bySubject.set(key, list);
  }
  const total = (vals) => vals.reduce((n, v) => n + Number(v[1]), 0);
  const series = [...bySubject.entries()].sort((a, b) => total(b[1]) - total(a[1])).slice(0, 5)
    .map(([subject, values]) => ({ metric: { subject: subject === 'all' ? 'all' : tenantName(subject) }, values }));
  const sum = r.data.data.reduce((n, row) => n + row.value, 0);
  return html`<div data-testid="meter-chart">
    <p><strong>${meter.slug}</strong> <span class="muted">${meter.aggregation}${meter.valueProperty ? ` of ${meter.valueProperty}` : ''} over ${meter.eventType}</span>
      ${' — '}<span data-testid="meter-total">${Math.round(sum * 1000) / 1000}</span> in ${days} days</p>
    <${Chart} title=${`${meter.slug} per ${window.toLowerCase()} (${tz})`} result=${series} label=${(m) => m.subject}
      from=${Date.parse(from) / 1000} to=${Date.parse(to) / 1000} />
  </div>`;
}

function EntitlementsOf({ subject }) {
  const r = useFetch(subject ? `/api/v1/subjects/${encodeURIComponent(subject)}/entitlements` : null, [subject]);
  if (!subject) return html`<p class="muted">Choose a tenant to see its entitlements.</p>`;
  if (r.error) return html`<${ErrorNote} error=${r.error} />`;
  if (!r.data) return html`<${Loading} what="entitlements" />`;
  return html`<${Table} caption="Entitlements" testid="entitlements" empty="No entitlements of its own (a plan's may apply)."
    head=${['Feature', 'Type', 'Usage period', 'Value']}
    rows=${r.data.map((e) => ({ key: e.id, cells: [e.featureKey, e.type, e.usagePeriod ? e.usagePeriod.interval : '—',
      html`<${EntitlementValue} subject=${subject} feature=${e.featureKey} />`] }))} />`;
}

function EntitlementValue({ subject, feature }) {
  const r = useFetch(`/api/v1/subjects/${encodeURIComponent(subject)}/entitlements/${encodeURIComponent(feature)}/value`, []);
  if (r.error) return html`<span class="muted">${r.error.message}</span>`;
  if (!r.data) return '…';
  const v = r.data;
  return html`<${Badge} value=${v.hasAccess ? 'access' : 'no access'} />
    ${v.balance !== undefined ? html` balance <strong>${v.balance}</strong>, used ${v.usage}${v.overage ? `, over by ${v.overage}` : ''}` : null}
    ${v.config ? html` <code>${v.config}</code>` : null}`;
}

export function UsageView() {
  const meters = useFetch('/api/v1/meters', []);
  const [days, setDays] = useState(30);
  const [window, setWindow] = useState('DAY');
  const [tz, setTz] = useState(Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  const [chosen, setChosen] = useState(null);
  const tenants = useFetch(isAdmin() ? '/v1/tenants?limit=1000' : null, []);
  const [subject, setSubject] = useState(isAdmin() ? '' : (session.who && session.who.tenant) || '');
  if (meters.error) return html`<h1>Usage</h1><${ErrorNote} error=${meters.error} />`;
  if (!meters.data) return html`<h1>Usage</h1><${Loading} what="meters" />`;
  const meter = meters.data.find((m) => m.slug === chosen) || meters.data[0];
  return html`<h1>Usage</h1>
    <p class="muted">Usage events metered by Hangar (OpenMeter's API at /api/v1): Hangar's own (instance-hours, pushes, reports, downloads) and what products report.</p>
    <div class="inline-form">
      <label class="field"><span>Meter</span><select data-testid="meter-choice" onChange=${(e) => setChosen(e.target.value)}>
        ${meters.data.map((m) => html`<option value=${m.slug} selected=${meter && m.slug === meter.slug}>${m.slug}</option>`)}</select></label>
      <label class="field"><span>Days</span><select onChange=${(e) => setDays(Number(e.target.value))}>
        ${[1, 7, 30, 90].map((d) => html`<option value=${d} selected=${d === days}>${d}</option>`)}</select></label>
      <label class="field"><span>Window</span><select onChange=${(e) => setWindow(e.target.value)}>
        ${['HOUR', 'DAY', 'MONTH'].map((w) => html`<option selected=${w === window}>${w}</option>`)}</select></label>
      <label class="field"><span>Time zone</span><input value=${tz} onChange=${(e) => setTz(e.target.value)} /></label>
    </div>
    ${meter ? html`<${Section} title="Usage"><${MeterChart} meter=${meter} days=${days} window=${window} tz=${tz} /><//>` : html`<p class="muted">No meters yet.</p>`}
    <${Section} title="Meters">
      <${Table} caption="Meters" testid="meters" empty="No meters."
        head=${['Meter', 'Event type', 'Aggregation', 'Value', 'Groups']}
        rows=${meters.data.map((m) => ({ key: m.slug, cells: [html`<strong>${m.slug}</strong>`, m.eventType, m.aggregation, m.valueProperty || '—', Object.keys(m.groupBy || {}).join(', ') || '—'] }))} />
    <//>
    <${Section} title="Entitlements">
      ${isAdmin() ? html`<label class="field"><span>Tenant</span><select data-testid="entitlement-tenant" onChange=${(e) => setSubject(e.target.value)}>
        <option value="">—</option>
        ${(tenants.data?.items || []).map((t) => html`<option value=${t.metadata.id} selected=${t.metadata.id === subject}>${t.metadata.name}</option>`)}</select></label>` : null}
      <${EntitlementsOf} subject=${subject} />
    <//>`;
}
