// Rollouts with live progress: waves, each target's state, pause/resume/abort for admins.
import { api, useLive, isAdmin } from './api.js';
import { html, Badge, Time, Table, Section, LiveDot, Loading, ErrorNote, ConfirmAction, href, name } from './ui.js';

const TARGET_TONE = { done: 'ok', upgrading: 'busy', pending: 'muted', rolled_back: 'bad', gone: 'muted' };

function Progress({ r }) {
  const targets = r.status?.targets || [];
  const done = targets.filter((t) => t.state === 'done' || t.state === 'gone').length;
  const total = targets.length || r.status?.total || 0;
  const pct = total ? Math.round((100 * done) / total) : r.status?.phase === 'Completed' ? 100 : 0;
  return html`<div class="progress-line">
    <progress max="100" value=${pct} aria-label=${`${name(r)}: ${done} of ${total} upgraded`}></progress>
    <span data-testid="rollout-progress">${done}/${total}</span>
  </div>`;
}

function Rollout({ r }) {
  const s = r.status || {};
  const id = r.metadata.id;
  const phase = s.phase || 'Pending';
  const active = phase === 'Progressing' || phase === 'Paused' || phase === 'Pending';
  return html`<${Section} title=${html`${name(r)} <${Badge} value=${phase} />`} actions=${isAdmin() && active ? html`<div class="actions">
      ${phase === 'Paused'
        ? html`<${ConfirmAction} label="Resume" title=${`Resume ${name(r)}?`} run=${() => api('POST', `/v1/rollouts/${id}:resume`)} />`
        : html`<${ConfirmAction} label="Pause" title=${`Pause ${name(r)}?`} body="Instances already upgrading finish; no new one starts." run=${() => api('POST', `/v1/rollouts/${id}:pause`)} />`}
      <${ConfirmAction} label="Abort" danger title=${`Abort ${name(r)}?`} body="No further instance is upgraded; upgraded ones stay on the new version."
        run=${() => api('POST', `/v1/rollouts/${id}:abort`)} />
    </div>` : null}>
    <p>${r.spec.product} → <strong>${r.spec.target_version}</strong>${r.spec.release_channel ? ` · channel ${r.spec.release_channel}` : ''}${' '}
      · waves ${(r.spec.waves || [10, 40, 100]).join(' / ')}% · wave ${s.current_wave ?? 0}</p>
    <${Progress} r=${r} />
    ${s.message ? html`<p class=${phase === 'Halted' ? 'error' : 'muted'}>${s.message}</p>` : null}
    <details open=${active || (s.targets || []).length <= 10}>
      <summary>Targets (${(s.targets || []).length})</summary>
      <${Table} caption="Targets" head=${['Instance', 'Wave', 'From', 'State', 'Since']}
        rows=${(s.targets || []).map((t) => ({ key: t.id, cells: [html`<a href=${href(['instances', t.id])}>${t.name}</a>`, t.wave, t.from,
          html`<span class=${'badge ' + (TARGET_TONE[t.state] || 'muted')}>${t.state}</span>`, html`<${Time} at=${t.since || t.healthy_since} />`] }))} />
    </details>
    <details>
      <summary>Events</summary>
      <ul class="events">${[...(s.events || [])].reverse().map((e) => html`<li><${Time} at=${e.time} /> ${e.message}</li>`)}</ul>
    </details>
  <//>`;
}

export function RolloutsView() {
  const rollouts = useLive('rollouts');
  if (!rollouts.loaded) return html`<h1>Rollouts</h1><${ErrorNote} error=${rollouts.error} /><${Loading} what="rollouts" />`;
  const order = { Progressing: 0, Paused: 1, Pending: 2, Halted: 3 };
  const items = [...rollouts.items].sort((a, b) => (order[a.status?.phase] ?? 9) - (order[b.status?.phase] ?? 9)
    || (b.metadata.created_at || '').localeCompare(a.metadata.created_at || ''));
  return html`<div class="title-row"><h1>Rollouts</h1><${LiveDot} live=${rollouts.live} /></div>
    ${items.length ? items.map((r) => html`<${Rollout} key=${r.metadata.id} r=${r} />`)
      : html`<p class="muted">No rollouts. Start one with <code>hangar rollout create</code> or <code>POST /v1/rollouts</code>.</p>`}`;
}
