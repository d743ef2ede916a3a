// Announcements: banners the operator shows in every workspace of an audience (delivered by the
// comms call a stock server makes before each sync), with their reach: how many workspaces got
// each one, and what their users did with it.
import { api, useLive, isAdmin, useTenants, useFetch } from './api.js';
import { html, Badge, Time, Table, Section, LiveDot, Loading, ErrorNote, ConfirmAction, Field, name, rfc3339 } from './ui.js';

function audience(a) {
  const aud = a.spec.audience || {};
  const parts = [];
  if (aud.tenants?.length) parts.push(`${aud.tenants.length} tenant${aud.tenants.length === 1 ? '' : 's'}`);
  if (aud.plans?.length) parts.push(`plans ${aud.plans.join(', ')}`);
  if (aud.versions?.min || aud.versions?.below) parts.push(`versions ${aud.versions.min ? `≥ ${aud.versions.min}` : ''}${aud.versions.min && aud.versions.below ? ' and ' : ''}${aud.versions.below ? `< ${aud.versions.below}` : ''}`);
  return parts.length ? parts.join('; ') : 'every workspace';
}

function state(a) {
  if (a.spec.withdrawn) return 'withdrawn';
  const now = Date.now();
  if (Date.parse(a.spec.ends_at) <= now) return 'ended';
  if (a.spec.starts_at && Date.parse(a.spec.starts_at) > now) return 'scheduled';
  return 'live';
}

// The form's fields as an Announcement spec; empty fields are left out.
export function specFrom(f) {
  const text = (k) => String(f.get(k) || '').trim();
  const list = (k) => f.getAll(k).map(String).filter(Boolean);
  const when = (k) => (text(k) ? rfc3339(new Date(text(k))) : undefined);
  const spec = { text: text('text'), severity: text('severity') || 'info', ends_at: when('ends_at') };
  if (text('title')) spec.title = text('title');
  if (when('starts_at')) spec.starts_at = when('starts_at');
  if (text('link_url')) spec.link = { url: text('link_url'), ...(text('link_label') ? { label: text('link_label') } : {}) };
  const audienceSpec = {};
  if (list('tenants').length) audienceSpec.tenants = list('tenants');
  if (list('plans').length) audienceSpec.plans = list('plans');
  if (text('min') || text('below')) audienceSpec.versions = { ...(text('min') ? { min: text('min') } : {}), ...(text('below') ? { below: text('below') } : {}) };
  if (Object.keys(audienceSpec).length) spec.audience = audienceSpec;
  return spec;
}

function NewAnnouncement({ tenants, plans }) {
  const inAWeek = new Date(Date.now() + 7 * 86400e3).toISOString().slice(0, 16);
  return html`<${ConfirmAction} label="New announcement" testid="new-announcement" title="New announcement" confirmLabel="Publish"
    run=${(f) => api('POST', '/v1/announcements', { metadata: { name: String(f.get('name')) }, spec: specFrom(f) })}>
    <${Field} label="Name" hint="lowercase letters, digits and -"><input name="name" required pattern="[a-z0-9][a-z0-9\\-]{0,62}" /><//>
    <${Field} label="Title (optional)"><input name="title" maxlength="200" /><//>
    <${Field} label="Text" hint="Markdown, as the workspace shows it"><textarea name="text" required maxlength="2000" rows="3"></textarea><//>
    <${Field} label="Severity"><select name="severity"><option>info</option><option>warning</option><option>critical</option></select><//>
    <${Field} label="Link (optional)"><input name="link_url" type="url" placeholder="https://…" /><//>
    <${Field} label="Link label"><input name="link_label" maxlength="80" placeholder="Learn more" /><//>
    <${Field} label="Starts (optional)"><input name="starts_at" type="datetime-local" /><//>
    <${Field} label="Ends"><input name="ends_at" type="datetime-local" required value=${inAWeek} /><//>
    <fieldset><legend>Audience (empty: every workspace)</legend>
      <${Field} label="Tenants"><select name="tenants" multiple size="4">${tenants.map((t) => html`<option value=${t.metadata.id}>${t.spec?.display_name || name(t)}</option>`)}</select><//>
      <${Field} label="Plans"><select name="plans" multiple size="3">${plans.map((p) => html`<option value=${p.metadata.name}>${p.spec.display_name || p.metadata.name}</option>`)}</select><//>
      <${Field} label="Versions from (optional)"><input name="min" placeholder="6.0" /><//>
      <${Field} label="Versions below (optional)"><input name="below" placeholder="7.0" /><//>
    </fieldset>
  <//>`;
}

export function AnnouncementsView() {
  const all = useLive('announcements');
  const tenants = useTenants();
  const plans = useFetch('/v1/plans?limit=1000');
  if (!all.loaded) return html`<h1>Announcements</h1><${ErrorNote} error=${all.error} /><${Loading} what="announcements" />`;
  const items = [...all.items].sort((a, b) => (b.metadata.created_at || '').localeCompare(a.metadata.created_at || ''));
  return html`<div class="title-row"><h1>Announcements</h1><${LiveDot} live=${all.live} /></div>
    <p class="muted">Workspaces receive an announcement on their next sync (every 12 hours, and at start) and show it as a banner to their administrators.</p>
    ${isAdmin() ? html`<div class="actions"><${NewAnnouncement} tenants=${tenants} plans=${plans.data?.items || []} /></div>` : null}
    <${Section} title="Announcements">
      <${Table} caption="Announcements and their reach" testid="announcements" empty="No announcements yet."
        head=${['Announcement', 'Severity', 'State', 'Audience', 'Ends', 'Delivered', 'Clicked', 'Dismissed', '']}
        rows=${items.map((a) => {
          const s = a.status || {};
          const i = s.interactions || {};
          return { key: a.metadata.id, cells: [html`<strong>${a.spec.title || name(a)}</strong><br /><span class="muted">${a.spec.text}</span>`,
            html`<${Badge} value=${a.spec.severity} />`, html`<${Badge} value=${state(a)} testid="announcement-state" />`, audience(a), html`<${Time} at=${a.spec.ends_at} />`,
            html`<span data-testid="delivered">${s.delivered ?? 0}</span>`, i.clicked ?? 0, i.dismissed ?? 0,
            isAdmin() && state(a) !== 'withdrawn' && state(a) !== 'ended' ? html`<${ConfirmAction} label="Withdraw" danger title=${`Withdraw ${name(a)}?`}
              body="Workspaces that show it are told to remove it on their next sync."
              confirmLabel="Withdraw" run=${() => api('POST', `/v1/announcements/${a.metadata.id}:withdraw`)} />` : ''] };
        })} />
    <//>`;
}
