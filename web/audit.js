// The audit log with filters (actor, action, tenant, time range), a page at a time; the filters
// live in the URL so a search can be shared.
import { useEffect, useState } from 'preact/hooks';
import { api, query, isAdmin, useTenantNames } from './api.js';
import { html, Table, ErrorNote, Loading, Field, navigate, fmtTime, rfc3339 } from './ui.js';

const toInput = (iso) => (iso ? iso.slice(0, 16) : '');
const fromInput = (v) => (v ? rfc3339(v) : '');

export function AuditView({ route }) {
  const p = route.params;
  const since = p.since || rfc3339(Date.now() - 864e5);
  const [items, setItems] = useState([]);
  const [next, setNext] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(true);
  const tenantName = useTenantNames();
  const filters = { actor: p.actor, action: p.action, tenant: p.tenant, since, until: p.until };
  const load = async (after, append) => {
    setLoading(true);
    try {
      const r = await api('GET', `/v1/audit${query({ ...filters, after, limit: 200 })}`);
      setItems((old) => (append ? old.concat(r.items) : r.items));
      setNext(r.next_after);
      setError(null);
    } catch (e) {
      setError(e);
      if (!append) setItems([]);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => { load(undefined, false); }, [p.actor, p.action, p.tenant, since, p.until]);
  const submit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    navigate(['audit'], { actor: f.get('actor'), action: f.get('action'), tenant: f.get('tenant') || '', since: fromInput(f.get('since')), until: fromInput(f.get('until')) });
  };
  return html`<h1>Audit log</h1>
    <form class="filters" onSubmit=${submit} role="search" aria-label="Filter the audit log">
      <${Field} label="Actor"><input name="actor" value=${p.actor || ''} placeholder="user, token or controller:…" /><//>
      <${Field} label="Action"><input name="action" value=${p.action || ''} placeholder="instance.restart" /><//>
      ${isAdmin() ? html`<${Field} label="Tenant id"><input name="tenant" value=${p.tenant || ''} placeholder="ten_…" /><//>` : null}
      <${Field} label="Since"><input name="since" type="datetime-local" value=${toInput(since)} /><//>
      <${Field} label="Until"><input name="until" type="datetime-local" value=${toInput(p.until)} /><//>
      <button type="submit" class="primary">Filter</button>
    </form>
    <${ErrorNote} error=${error} />
    ${error?.status === 403 ? html`<p class="muted">The audit log is shown to tenant owners and platform admins.</p>` : null}
    <${Table} caption="Audit events, oldest first" testid="audit" empty=${loading ? 'Loading…' : 'No event matches.'}
      head=${['#', 'Time (UTC)', 'Actor', 'Action', 'Object', 'Tenant', 'Outcome', 'Source']}
      rows=${items.map((e) => ({ key: e.seq, cells: [e.seq, fmtTime(e.time), e.actor, html`<code>${e.action}</code>`, e.object ? html`<code>${e.object}</code>` : '—',
        tenantName(e.tenant), html`<span class=${'badge ' + (e.outcome === 'success' ? 'ok' : 'bad')}>${e.outcome}</span>`, e.source] }))} />
    ${loading && items.length ? html`<${Loading} />` : null}
    ${next ? html`<button type="button" onClick=${() => load(next, true)}>Load more</button>` : null}`;
}
