// Alerts (firing and pending first), silencing one from its labels, pages to acknowledge or
// resolve, and the silences in force.
import { useState } from 'preact/hooks';
import { api, useLive, can, session, useTenantNames } from './api.js';
import { html, Badge, Time, Table, Section, LiveDot, Loading, ErrorNote, ConfirmAction, Field, href, rfc3339 } from './ui.js';

const STATE_ORDER = { firing: 0, pending: 1, resolved: 2 };

function matcherValue(v) {
  return JSON.stringify(String(v));
}

function SilenceFromAlert({ a }) {
  const labels = Object.entries(a.spec?.labels || {});
  const author = session.who?.user || session.who?.token || 'dashboard';
  return html`<${ConfirmAction} label="Silence" testid="silence" title=${`Silence ${a.spec?.labels?.alertname || 'this alert'}`} confirmLabel="Silence"
    body="Alerts whose labels match every ticked matcher are muted until the silence ends."
    run=${(f) => {
      const matchers = labels.filter(([k]) => f.get(`m.${k}`) === 'on').map(([k, v]) => `${k}=${matcherValue(v)}`);
      const hours = Number(f.get('hours'));
      if (!matchers.length) throw new Error('Tick at least one matcher.');
      if (!(hours > 0 && hours <= 24 * 30)) throw new Error('The duration must be between a few minutes and 720 hours.');
      return api('POST', '/v1/silences', {
        metadata: { name: `dash-${Date.now().toString(36)}`, tenant: a.metadata.tenant },
        spec: { matchers, ends_at: rfc3339(Date.now() + hours * 3600e3), author: String(author), comment: String(f.get('comment') || '') },
      });
    }}>
    <fieldset><legend>Matchers</legend>
      ${labels.map(([k, v]) => html`<label class="check"><input type="checkbox" name=${`m.${k}`} checked=${k === 'alertname' || k === 'instance' || k === 'tenant'} />
        <code>${k}=${matcherValue(v)}</code></label>`)}
    </fieldset>
    <${Field} label="For (hours)"><input name="hours" type="number" min="0.1" max="720" step="0.1" value="2" required /><//>
    <${Field} label="Why"><input name="comment" required maxlength="2000" placeholder="e.g. known issue, fix deploying" /><//>
  <//>`;
}

function AlertsTable({ alerts, tenantName }) {
  const [show, setShow] = useState('active');
  const rows = alerts.items
    .filter((a) => show === 'all' || a.status?.state !== 'resolved')
    .sort((a, b) => (STATE_ORDER[a.status?.state] ?? 9) - (STATE_ORDER[b.status?.state] ?? 9) || (a.status?.priority || '').localeCompare(b.status?.priority || ''));
  return html`<${Section} title="Alerts" actions=${html`<${Field} label="Show"><select value=${show} onChange=${(e) => setShow(e.target.value)}>
      <option value="active">firing and pending</option><option value="all">all, resolved too</option></select><//>`}>
    <${Table} caption="Alerts" testid="alerts" empty="No alert is firing or pending."
      head=${['Alert', 'State', 'Priority', 'Tenant', 'Instance', 'Summary', 'Since', 'Muted by', '']}
      rows=${rows.map((a) => {
        const l = a.spec?.labels || {};
        return {
          key: a.metadata.id,
          cells: [l.alertname, html`<${Badge} value=${a.status?.state} />`, html`<${Badge} value=${a.status?.priority} />`, tenantName(a.metadata.tenant),
            l.instance ? html`<a href=${href(['instances', l.instance])}>${l.instance_name || l.instance}</a>` : '—',
            a.spec?.annotations?.summary || '', html`<${Time} at=${a.status?.starts_at} />`, a.status?.suppressed_by || '',
            can('operator') && a.status?.state !== 'resolved' ? html`<${SilenceFromAlert} a=${a} />` : ''],
        };
      })} />
  <//>`;
}

function PagesTable({ pages, tenantName }) {
  const rows = pages.items
    .filter((p) => p.status?.state !== 'resolved')
    .sort((a, b) => (b.status?.triggered_at || '').localeCompare(a.status?.triggered_at || ''));
  return html`<${Section} title="Pages waiting">
    <${Table} caption="Open pages" testid="pages" empty="No open page."
      head=${['Page', 'State', 'Priority', 'Tenant', 'Assignee', 'Triggered', 'Next escalation', '']}
      rows=${rows.map((p) => ({
        key: p.metadata.id,
        cells: [p.spec?.title, html`<${Badge} value=${p.status?.state} />`, html`<${Badge} value=${p.spec?.priority} />`, tenantName(p.metadata.tenant),
          p.status?.assignee || '—', html`<${Time} at=${p.status?.triggered_at} />`, html`<${Time} at=${p.status?.next_escalation_at} />`,
          can('operator') ? html`<div class="actions">
            ${p.status?.state === 'triggered' ? html`<${ConfirmAction} label="Acknowledge" testid="ack" title="Acknowledge this page?"
              body="Escalation stops; you are working on it." run=${() => api('POST', `/v1/pages/${p.metadata.id}:acknowledge`)} />` : null}
            <${ConfirmAction} label="Resolve" testid="resolve-page" title="Resolve this page?" run=${() => api('POST', `/v1/pages/${p.metadata.id}:resolve`)} />
          </div>` : ''],
      }))} />
  <//>`;
}

// The silence's state from its times (the server writes status.state too, but only when it
// next looks at the silence).
function silenceState(s) {
  const now = Date.now();
  if (s.spec.ends_at && Date.parse(s.spec.ends_at) <= now) return 'expired';
  if (s.spec.starts_at && Date.parse(s.spec.starts_at) > now) return 'pending';
  return 'active';
}

function SilencesTable({ silences, tenantName }) {
  const rows = silences.items.filter((s) => silenceState(s) !== 'expired');
  return html`<${Section} title="Silences in force">
    <${Table} caption="Silences" testid="silences" empty="No silence is active or pending."
      head=${['Matchers', 'State', 'Tenant', 'Ends', 'Author', 'Why', '']}
      rows=${rows.map((s) => ({
        key: s.metadata.id,
        cells: [html`<code>${(s.spec.matchers || []).join(', ')}</code>`, html`<${Badge} value=${silenceState(s)} />`, tenantName(s.metadata.tenant),
          html`<${Time} at=${s.spec.ends_at} />`, s.spec.author, s.spec.comment,
          can('operator') ? html`<${ConfirmAction} label="Expire" danger title="Expire this silence?" body="The alerts it mutes notify again."
            run=${() => api('DELETE', `/v1/silences/${s.metadata.id}`)} />` : ''],
      }))} />
  <//>`;
}

export function AlertsView() {
  const alerts = useLive('alerts');
  const pages = useLive('pages');
  const silences = useLive('silences');
  const tenantName = useTenantNames();
  if (!alerts.loaded) return html`<h1>Alerts</h1><${ErrorNote} error=${alerts.error} /><${Loading} what="alerts" />`;
  return html`<div class="title-row"><h1>Alerts</h1><${LiveDot} live=${alerts.live && pages.live} /></div>
    <${PagesTable} pages=${pages} tenantName=${tenantName} />
    <${AlertsTable} alerts=${alerts} tenantName=${tenantName} />
    <${SilencesTable} silences=${silences} tenantName=${tenantName} />`;
}
