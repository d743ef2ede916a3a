// Incidents: the list and declaring one; one incident's timeline, roles, status updates and
// notes, and its post-mortem editor with a Markdown preview.
import { useState } from 'preact/hooks';
import { api, useLive, useFetch, can, isAdmin, putSpec, useTenants, useTenantNames } from './api.js';
import { html, Badge, Time, Table, Section, LiveDot, Loading, ErrorNote, ConfirmAction, Field, KeyValues, href, navigate, name, fmtTime } from './ui.js';
import { Markdown } from './markdown.js';

const STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'];

function Declare() {
  const tenants = useTenants();
  return html`<${ConfirmAction} label="Declare incident" testid="declare" title="Declare an incident" confirmLabel="Declare"
    run=${(f) => api('POST', '/v1/incidents', {
      metadata: { name: `inc-${new Date().toISOString().slice(0, 16).replace(/[-:T]/g, '')}-${Math.random().toString(36).slice(2, 6)}`,
        ...(isAdmin() ? { tenant: String(f.get('tenant')) } : {}) },
      spec: { title: String(f.get('title')), severity: String(f.get('severity')), summary: String(f.get('summary') || ''), public: f.get('public') === 'on' },
    })}
    onDone=${(o) => navigate(['incidents', o.metadata.id])}>
    ${isAdmin() ? html`<${Field} label="Tenant"><select name="tenant" required>${tenants.map((t) => html`<option value=${t.metadata.id}>${t.metadata.name}</option>`)}</select><//>` : null}
    <${Field} label="Title"><input name="title" required maxlength="200" placeholder="What is wrong, as users see it" /><//>
    <${Field} label="Severity"><select name="severity">${['P1', 'P2', 'P3', 'P4'].map((s) => html`<option selected=${s === 'P2'}>${s}</option>`)}</select><//>
    <${Field} label="Summary"><textarea name="summary" rows="3"></textarea><//>
    <label class="check"><input type="checkbox" name="public" /> Show on the public status page</label>
  <//>`;
}

export function IncidentsView() {
  const incidents = useLive('incidents');
  const tenantName = useTenantNames();
  if (!incidents.loaded) return html`<h1>Incidents</h1><${ErrorNote} error=${incidents.error} /><${Loading} what="incidents" />`;
  const rows = [...incidents.items].sort((a, b) => (a.spec.status === 'resolved') - (b.spec.status === 'resolved')
    || (b.metadata.created_at || '').localeCompare(a.metadata.created_at || ''));
  return html`<div class="title-row"><h1>Incidents</h1><${LiveDot} live=${incidents.live} />${can('operator') ? html`<${Declare} />` : null}</div>
    <${Table} caption="Incidents, open first" testid="incidents" empty="No incidents."
      head=${['Title', 'Severity', 'Status', 'Lead', 'Tenant', 'Declared', 'Post-mortem']}
      rows=${rows.map((i) => ({
        key: i.metadata.id,
        cells: [html`<a href=${href(['incidents', i.metadata.id])}>${i.spec.title}</a>`, html`<${Badge} value=${i.spec.severity} />`,
          html`<${Badge} value=${i.spec.status} />`, i.spec.roles?.lead || '—', tenantName(i.metadata.tenant), html`<${Time} at=${i.metadata.created_at} />`,
          html`<${Badge} value=${i.spec.postmortem?.state} />`],
      }))} />`;
}

function StatusUpdate({ inc }) {
  return html`<${ConfirmAction} label="Post update" testid="status-update" title="Status update" confirmLabel="Post"
    run=${(f) => api('POST', `/v1/incidents/${inc.metadata.id}:status`, { status: String(f.get('status')), note: String(f.get('note') || '') })}>
    <${Field} label="Status"><select name="status">${STATUSES.map((s) => html`<option selected=${s === inc.spec.status}>${s}</option>`)}</select><//>
    <${Field} label="What changed"><textarea name="note" rows="3"></textarea><//>
  <//>`;
}

function Note({ inc }) {
  return html`<${ConfirmAction} label="Add note" testid="note" title="Add a note to the timeline" confirmLabel="Add"
    run=${(f) => api('POST', `/v1/incidents/${inc.metadata.id}:note`, { text: String(f.get('text')), public: f.get('public') === 'on' })}>
    <${Field} label="Note"><textarea name="text" rows="3" required></textarea><//>
    <label class="check"><input type="checkbox" name="public" /> Public (shown on the status page)</label>
  <//>`;
}

function Assign({ inc }) {
  return html`<${ConfirmAction} label="Assign role" testid="assign" title="Assign a role" confirmLabel="Assign"
    run=${(f) => api('POST', `/v1/incidents/${inc.metadata.id}:assign`, { role: String(f.get('role')), user: String(f.get('user')) })}>
    <${Field} label="Role"><select name="role"><option>lead</option><option>communications</option><option>responder</option></select><//>
    <${Field} label="User (name)"><input name="user" required /><//>
  <//>`;
}

function Postmortem({ inc }) {
  const pm = inc.spec.postmortem || {};
  const [root, setRoot] = useState(pm.root_cause || '');
  const [fix, setFix] = useState(pm.remediation || '');
  const [follow, setFollow] = useState((inc.spec.follow_ups || []).map((f) => `${f.done ? '[x]' : '[ ]'} ${f.text}${f.owner ? ` @${f.owner}` : ''}`).join('\n'));
  const [tab, setTab] = useState('edit');
  const [saved, setSaved] = useState(null);
  const [error, setError] = useState(null);
  const doc = useFetch(`/v1/incidents/${inc.metadata.id}/postmortem`, [inc.metadata.revision]);
  const editable = can('operator') && pm.state !== 'Published';
  const save = async () => {
    setError(null);
    try {
      const follow_ups = follow.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
        const m = l.match(/^\[( |x)\]\s*(.*?)(?:\s+@(\S+))?$/);
        return m ? { text: m[2], done: m[1] === 'x', ...(m[3] ? { owner: m[3] } : {}) } : { text: l, done: false };
      });
      await putSpec('incidents', inc, { ...inc.spec, follow_ups, postmortem: { ...pm, root_cause: root, remediation: fix } });
      setSaved(new Date());
    } catch (e) {
      setError(e);
    }
  };
  const next = { Draft: ['Reviewed'], Reviewed: ['Published', 'Draft'], Published: [] }[pm.state || 'Draft'] || [];
  return html`<${Section} title=${html`Post-mortem <${Badge} value=${pm.state || 'Draft'} />`} actions=${can('operator') ? html`<div class="actions">
      ${next.map((s) => html`<${ConfirmAction} label=${`Mark ${s}`} testid=${`pm-${s.toLowerCase()}`} title=${`Mark the post-mortem ${s}?`}
        body=${s === 'Published' ? 'Publishing needs the incident resolved; the post-mortem can no longer be edited.' : ''}
        run=${() => api('POST', `/v1/incidents/${inc.metadata.id}:postmortem`, { state: s })} />`)}</div>` : null}>
    <div class="tabs" role="tablist">
      ${[['edit', editable ? 'Edit' : 'Sections'], ['preview', 'Preview'], ['full', 'Full post-mortem']].map(([k, label]) => html`<button type="button" role="tab"
        aria-selected=${tab === k} onClick=${() => setTab(k)} data-testid=${`pm-tab-${k}`}>${label}</button>`)}
    </div>
    ${tab === 'edit' ? html`<div class="pm-edit">
      <${Field} label="Root cause (Markdown)"><textarea rows="6" value=${root} readOnly=${!editable} onInput=${(e) => setRoot(e.target.value)} data-testid="pm-root" /><//>
      <${Field} label="Remediation (Markdown)"><textarea rows="6" value=${fix} readOnly=${!editable} onInput=${(e) => setFix(e.target.value)} /><//>
      <${Field} label="Follow-ups, one per line" hint="[ ] what to do @owner, or [x] when done"><textarea rows="4" value=${follow} readOnly=${!editable} onInput=${(e) => setFollow(e.target.value)} /><//>
      ${editable ? html`<div class="buttons"><button type="button" class="primary" onClick=${save} data-testid="pm-save">Save draft</button>
        ${saved ? html`<span class="muted" role="status">Saved at ${fmtTime(saved)}</span>` : null}</div>` : null}
      <${ErrorNote} error=${error} />
    </div>` : null}
    ${tab === 'preview' ? html`<div class="preview"><h3>Root cause</h3><${Markdown} text=${root || '_not written yet_'} testid="pm-preview" />
      <h3>Remediation</h3><${Markdown} text=${fix || '_not written yet_'} /></div>` : null}
    ${tab === 'full' ? html`<${ErrorNote} error=${doc.error} />${doc.data !== null ? html`<${Markdown} text=${doc.data} testid="pm-full" />` : html`<${Loading} />`}` : null}
  <//>`;
}

export function IncidentView({ id }) {
  const incidents = useLive('incidents');
  const inc = incidents.byId.get(id);
  const timeline = useFetch(`/v1/incidents/${id}/timeline`, [inc?.metadata.revision]);
  const tenantName = useTenantNames();
  if (!incidents.loaded) return html`<${ErrorNote} error=${incidents.error} /><${Loading} what="the incident" />`;
  if (!inc) return html`<h1>Incident</h1><p class="error" role="alert">There is no incident ${id}. <a href="#/incidents">All incidents</a></p>`;
  const s = inc.spec;
  const resolved = s.status === 'resolved';
  return html`<p class="crumbs"><a href="#/incidents">Incidents</a> / ${s.title}</p>
    <div class="title-row"><h1>${s.title}</h1><${Badge} value=${s.severity} /> <${Badge} value=${s.status} testid="incident-status" /><${LiveDot} live=${incidents.live} /></div>
    ${can('operator') ? html`<div class="actions" role="group" aria-label="Actions">
      <${StatusUpdate} inc=${inc} /><${Note} inc=${inc} /><${Assign} inc=${inc} />
      ${!resolved ? html`<${ConfirmAction} label="Resolve" testid="resolve-incident" title="Resolve this incident?" confirmLabel="Resolve"
        run=${(f) => api('POST', `/v1/incidents/${id}:status`, { status: 'resolved', note: String(f.get('note') || 'Resolved.') })}>
        <${Field} label="Closing note"><textarea name="note" rows="2"></textarea><//><//>` : null}
    </div>` : null}
    <div class="grid2">
      <${Section} title="Summary">
        <${KeyValues} pairs=${[['Tenant', tenantName(inc.metadata.tenant)], ['Declared', fmtTime(inc.metadata.created_at)], ['Resolved', inc.status?.resolved_at ? fmtTime(inc.status.resolved_at) : undefined],
          ['Lead', s.roles?.lead], ['Communications', s.roles?.communications], ['Responders', (s.roles?.responders || []).join(', ')],
          ['Affected tenants', (s.affected?.tenants || []).map(tenantName).join(', ')],
          ['Affected instances', (s.affected?.instances || []).map((i) => html`<a href=${href(['instances', i])}>${i}</a> `)], ['Public', s.public ? 'yes' : 'no']]} />
        ${s.summary ? html`<${Markdown} text=${s.summary} />` : null}
      <//>
      <${Section} title="Timeline">
        <${ErrorNote} error=${timeline.error} />
        ${timeline.data ? html`<ol class="timeline-list" data-testid="timeline">${timeline.data.items.map((e) => html`<li>
          <time datetime=${e.at}>${fmtTime(e.at)}</time> <span class="badge muted">${e.type}</span> ${e.text}${e.by ? html` <span class="muted">— ${e.by}</span>` : null}</li>`)}</ol>`
          : html`<${Loading} />`}
      <//>
    </div>
    <${Postmortem} inc=${inc} key=${inc.metadata.id} />`;
}
