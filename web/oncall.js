// On-call: who is on call now and next for each schedule, the next two weeks as a timeline
// (from the schedule's iCalendar feed), and overrides.
import { useEffect, useState } from 'preact/hooks';
import { api, useLive, useFetch, can, isAdmin, query, putSpec, useTenants } from './api.js';
import { html, Section, Table, Loading, ErrorNote, LiveDot, ConfirmAction, Field, Time, navigate, fmtTime, rfc3339, name } from './ui.js';

// The VEVENTs of an RFC 5545 feed as {start, end, user, layer}.
export function parseIcal(text) {
  const lines = text.replace(/\r\n[ \t]/g, '').split(/\r?\n/);
  const out = [];
  let ev = null;
  const time = (v) => new Date(v.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z'));
  for (const line of lines) {
    if (line === 'BEGIN:VEVENT') ev = {};
    else if (line === 'END:VEVENT' && ev) { out.push(ev); ev = null; }
    else if (ev) {
      const i = line.indexOf(':');
      const key = line.slice(0, i).split(';')[0];
      const value = line.slice(i + 1).replace(/\\([,;\\])/g, '$1');
      if (key === 'DTSTART') ev.start = time(value);
      if (key === 'DTEND') ev.end = time(value);
      if (key === 'SUMMARY') {
        const m = value.match(/^On call: (.*) \((.*)\)$/);
        ev.user = m ? m[1] : value;
        ev.layer = m ? m[2] : '';
      }
    }
  }
  return out;
}

const PALETTE = ['#1f5fbf', '#1b7f3b', '#8a4b00', '#6b3fa0', '#b3261e', '#00677d'];

function Timeline({ schedule }) {
  const [shifts, setShifts] = useState(null);
  const [error, setError] = useState(null);
  useEffect(() => {
    api('GET', `/v1/schedules/${schedule.metadata.id}/ical?days=14`).then((t) => setShifts(parseIcal(t))).catch(setError);
  }, [schedule.metadata.id, schedule.metadata.revision]);
  if (error) return html`<${ErrorNote} error=${error} />`;
  if (!shifts) return html`<${Loading} what="shifts" />`;
  const from = Date.now() - 864e5;
  const to = Date.now() + 13 * 864e5;
  const pct = (t) => Math.min(100, Math.max(0, ((t - from) / (to - from)) * 100));
  const users = [...new Set(shifts.map((s) => s.user))];
  const colour = (u) => PALETTE[users.indexOf(u) % PALETTE.length];
  const days = Array.from({ length: 15 }, (_, i) => new Date(Math.floor(from / 864e5) * 864e5 + i * 864e5)).filter((d) => d >= from && d <= to);
  return html`<div class="timeline" role="img" aria-label=${`${name(schedule)}: ${shifts.length} shifts over the next two weeks`}>
      ${days.map((d) => html`<span class="tick" style=${`left:${pct(d)}%`}>${d.toISOString().slice(5, 10)}</span>`)}
      ${shifts.filter((s) => s.end > from && s.start < to).map((s) => html`<span class="shift" title=${`${s.user} (${s.layer}) ${fmtTime(s.start)} → ${fmtTime(s.end)}`}
        style=${`left:${pct(s.start)}%;width:${Math.max(0.5, pct(s.end) - pct(s.start))}%;background:${colour(s.user)}`}>${s.user}</span>`)}
      <span class="now" style=${`left:${pct(Date.now())}%`} title="now"></span>
    </div>
    <details><summary>Shifts as a list</summary>
      <${Table} caption=${`Shifts of ${name(schedule)}`} head=${['Who', 'Layer', 'From', 'To']}
        rows=${shifts.map((s, i) => ({ key: i, cells: [s.user, s.layer, fmtTime(s.start), fmtTime(s.end)] }))} />
    </details>`;
}

function Overrides({ schedule }) {
  const overrides = schedule.spec.overrides || [];
  const put = (list) => putSpec('schedules', schedule, { ...schedule.spec, overrides: list });
  return html`<div>
    <h3>Overrides</h3>
    <${Table} caption="Overrides" testid="overrides" empty="No overrides." head=${['Who', 'From', 'To', '']}
      rows=${overrides.map((o, i) => ({ key: i, cells: [o.user, fmtTime(o.start), fmtTime(o.end),
        can('operator') ? html`<${ConfirmAction} label="Remove" danger title=${`Remove ${o.user}'s override?`} run=${() => put(overrides.filter((_, j) => j !== i))} />` : ''] }))} />
    ${can('operator') ? html`<${ConfirmAction} label="Add override" testid="add-override" title=${`Override ${name(schedule)}`} confirmLabel="Add"
      body="Someone takes the shift for a while; overrides win over every layer."
      run=${(f) => put([...overrides, { user: String(f.get('user')), start: rfc3339(f.get('start')), end: rfc3339(f.get('end')) }])}>
      <${Field} label="User (name)"><input name="user" required /><//>
      <${Field} label="From (your local time)"><input name="start" type="datetime-local" required /><//>
      <${Field} label="To (your local time)"><input name="end" type="datetime-local" required /><//>
    <//>` : null}
  </div>`;
}

export function OncallView({ route }) {
  const tenants = useTenants();
  const tenant = route.params.tenant || '';
  const scope = isAdmin() ? tenant : 'own';
  const now = useFetch(scope ? `/v1/oncall/now${query({ tenant: isAdmin() ? tenant : undefined })}` : null, [tenant]);
  const schedules = useLive('schedules');
  useEffect(() => { const t = setInterval(now.reload, 60000); return () => clearInterval(t); }, [now.reload]);
  const mine = schedules.items.filter((s) => !isAdmin() || s.metadata.tenant === tenant);
  return html`<div class="title-row"><h1>On-call</h1><${LiveDot} live=${schedules.live} /></div>
    ${isAdmin() ? html`<form class="filters" onSubmit=${(e) => e.preventDefault()}><${Field} label="Tenant">
      <select value=${tenant} onChange=${(e) => navigate(['oncall'], { tenant: e.target.value })}>
        <option value="">choose a tenant</option>${tenants.map((t) => html`<option value=${t.metadata.id}>${name(t)}</option>`)}</select><//></form>` : null}
    ${!scope ? html`<p class="muted">Schedules belong to tenants: choose one.</p>` : html`
    <${Section} title="On call now">
      <${ErrorNote} error=${now.error} />
      ${now.data ? html`<${Table} caption="Who is on call" testid="oncall-now" empty="No schedules."
        head=${['Schedule', 'On call', 'Until', 'Next', 'From']}
        rows=${now.data.schedules.map((s) => ({ key: s.id, cells: [s.schedule, html`<strong>${s.on_call?.user || 'nobody'}</strong>`,
          html`<${Time} at=${s.on_call?.end} />`, s.next?.user || '—', html`<${Time} at=${s.next?.start} />`] }))} />` : html`<${Loading} />`}
    <//>
    ${mine.map((s) => html`<${Section} key=${s.metadata.id} title=${`${name(s)} · ${s.spec.time_zone || 'UTC'}`}>
      <${Timeline} schedule=${s} />
      <${Overrides} schedule=${s} />
    <//>`)}`}`;
}
