// Workspaces: registrations waiting for approval, each workspace's registration, sync, push
// usage this month and latest statistics.
import { useEffect, useState } from 'preact/hooks';
import { api, useLive, useFetch, can, isAdmin, useTenants, useTenantNames, query } from './api.js';
import { html, Badge, Time, Table, Section, LiveDot, Loading, ErrorNote, ConfirmAction, Field, KeyValues, name } from './ui.js';

function ApproveFields({ tenants }) {
  return html`${isAdmin() ? html`<${Field} label="Tenant"><select name="tenant" required>
      ${tenants.map((t) => html`<option value=${t.metadata.id}>${name(t)}</option>`)}</select><//>` : null}
    <${Field} label="Workspace name (optional)" hint="lowercase letters, digits and -"><input name="name" pattern="[a-z0-9][a-z0-9\\-]{0,62}" /><//>`;
}

function approve(code, f) {
  const body = { user_code: code };
  if (f.get('name')) body.name = String(f.get('name'));
  return api('POST', `/v1/workspaces:approve${query({ tenant: isAdmin() ? f.get('tenant') : undefined })}`, body);
}

function Pending({ tenants }) {
  const pending = useFetch(isAdmin() ? '/v1/workspaces:pending' : null);
  useEffect(() => { if (!isAdmin()) return undefined; const t = setInterval(pending.reload, 5000); return () => clearInterval(t); }, [pending.reload]);
  if (!can('operator')) return null;
  if (!isAdmin()) {
    return html`<${Section} title="Approve a registration">
      <p>A server registering by device code shows its operator a user code; enter it to register the server in your tenant.</p>
      <${ConfirmAction} label="Approve by user code" testid="approve-code" title="Approve a registration" confirmLabel="Approve"
        run=${(f) => approve(String(f.get('user_code')).trim().toUpperCase(), f)}>
        <${Field} label="User code"><input name="user_code" required autocomplete="off" /><//>
        <${ApproveFields} tenants=${tenants} />
      <//>
    <//>`;
  }
  return html`<${Section} title="Registrations waiting for approval">
    <${ErrorNote} error=${pending.error} />
    ${pending.data ? html`<${Table} caption="Pending registrations" testid="pending" empty="No server is waiting."
      head=${['User code', 'Site', 'Address', 'Version', 'Contact', 'Asked', 'Expires', '']}
      rows=${pending.data.items.map((p) => ({ key: p.user_code, cells: [html`<code>${p.user_code}</code>`, p.site_name, p.address, p.version, p.contact_email,
        html`<${Time} at=${p.requested_at} />`, html`<${Time} at=${p.expires_at} />`,
        html`<div class="actions"><${ConfirmAction} label="Approve" title=${`Approve ${p.site_name || p.user_code}?`} confirmLabel="Approve"
            run=${(f) => approve(p.user_code, f)} onDone=${pending.reload}><${ApproveFields} tenants=${tenants} /><//>
          <${ConfirmAction} label="Reject" danger title=${`Reject ${p.site_name || p.user_code}?`} confirmLabel="Reject"
            run=${() => api('POST', '/v1/workspaces:reject', { user_code: p.user_code })} onDone=${pending.reload} /></div>`] }))} />` : html`<${Loading} />`}
  <//>`;
}

function scalars(o) {
  return Object.entries(o || {}).filter(([, v]) => v === null || typeof v !== 'object');
}

export function WorkspacesView() {
  const ws = useLive('workspaces');
  const tenantName = useTenantNames();
  const tenants = useTenants();
  const [open, setOpen] = useState(null);
  const month = new Date().toISOString().slice(0, 7);
  if (!ws.loaded) return html`<h1>Workspaces</h1><${ErrorNote} error=${ws.error} /><${Loading} what="workspaces" />`;
  const chosen = open && ws.byId.get(open);
  return html`<div class="title-row"><h1>Workspaces</h1><${LiveDot} live=${ws.live} /></div>
    <${Pending} tenants=${tenants} />
    <${Section} title="Workspaces">
      <${Table} caption="Workspaces" testid="workspaces" empty="No workspaces."
        head=${['Name', 'Tenant', 'Registration', 'Version', 'Seats', 'Last sync', `Push ${month}`, 'Reports', '']}
        rows=${ws.items.map((w) => {
          const s = w.status || {};
          return { key: w.metadata.id, cells: [w.spec.display_name || name(w), tenantName(w.metadata.tenant), html`<${Badge} value=${s.registration || 'Unregistered'} />`,
            s.record?.version || s.statistics?.version || '—', s.seats ?? '—', html`<${Time} at=${s.last_sync_at} />`,
            s.push?.month === month ? s.push.sent : 0, s.statistics?.reports ?? 0,
            html`<button type="button" onClick=${() => setOpen(w.metadata.id)} aria-expanded=${open === w.metadata.id}>Details</button>`] };
        })} />
    <//>
    ${chosen ? html`<${Section} title=${`${name(chosen)}: details`} actions=${html`<button type="button" onClick=${() => setOpen(null)}>Close</button>`}>
      <div class="grid2">
        <div><h3>Registration</h3><${KeyValues} pairs=${[['Id', html`<code>${chosen.metadata.id}</code>`], ['Scopes', (chosen.spec.scopes || []).join(' ')],
          ['Registered', chosen.status?.registered_at], ['Via', chosen.status?.registered_via], ['Address', chosen.status?.record?.address],
          ['Deployment', chosen.status?.record?.deploymentMethod || chosen.status?.record?.deployMethod], ['Syncs', chosen.status?.syncs]]} />
          ${can('operator') ? html`<div class="actions">
            <${ConfirmAction} label="New registration token" title="Issue a one-time registration token?" body="The server registers with it once; it expires."
              run=${() => api('POST', `/v1/workspaces/${chosen.metadata.id}:registration-token`)}
              onDone=${(r) => window.alert(`Registration token (shown once): ${r.token || JSON.stringify(r)}`)} />
          </div>` : null}</div>
        <div><h3>Latest statistics</h3><${KeyValues} pairs=${scalars(chosen.status?.statistics).map(([k, v]) => [k, String(v)])} /></div>
      </div>
    <//>` : null}`;
}
