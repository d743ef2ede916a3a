// The dashboard's shell: sign-in with an API token, the navigation, and the view the URL names.
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, session, saveToken, signOut, onUnauthenticated, can, useTenants } from './api.js';
import { html, useRoute, href, ErrorNote } from './ui.js';
import { FleetView } from './fleet.js';
import { InstancesView, InstanceView } from './instances.js';
import { RolloutsView } from './rollouts.js';
import { AlertsView } from './alerts.js';
import { OncallView } from './oncall.js';
import { IncidentsView, IncidentView } from './incidents.js';
import { TenantsView } from './tenants.js';
import { WorkspacesView } from './workspaces.js';
import { AnnouncementsView } from './announcements.js';
import { MarketplaceView } from './marketplace.js';
import { UsageView } from './usage.js';
import { AuditView } from './audit.js';

const NAV = [
  ['fleet', 'Fleet'],
  ['instances', 'Instances'],
  ['rollouts', 'Rollouts'],
  ['alerts', 'Alerts'],
  ['oncall', 'On-call'],
  ['incidents', 'Incidents'],
  ['tenants', 'Tenants'],
  ['workspaces', 'Workspaces'],
  ['announcements', 'Announcements'],
  ['marketplace', 'Marketplace'],
  ['usage', 'Usage'],
  ['audit', 'Audit'],
];

function SignIn({ onSignedIn, expired }) {
  const [error, setError] = useState(expired ? { message: 'Your token was refused (expired or revoked). Sign in again.' } : null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const token = String(form.get('token') || '').trim();
    if (!token) {
      setError({ message: 'Paste an API token (hgr_…) from `hangar token create` or your administrator.' });
      return;
    }
    setBusy(true);
    saveToken(token, form.get('remember') === 'on');
    try {
      session.who = await api('GET', '/v1/whoami');
      onSignedIn();
    } catch (err) {
      signOut();
      setError(err.status === 401 ? { message: 'That token is unknown, expired or revoked.' } : err);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin" id="main">
    <form onSubmit=${submit} aria-labelledby="signin-title">
      <h1 id="signin-title"><span class="logo" aria-hidden="true">▲</span> Hangar</h1>
      <p>Sign in with an API token. What you see and may change follows the token's tenant and role.</p>
      <label class="field"><span>API token</span>
        <input name="token" type="password" autocomplete="current-password" placeholder="hgr_…" required autofocus /></label>
      <label class="check"><input type="checkbox" name="remember" /> Remember on this device</label>
      <${ErrorNote} error=${error} />
      <button type="submit" class="primary" disabled=${busy}>${busy ? 'Signing in…' : 'Sign in'}</button>
    </form>
  </main>`;
}

function View({ route }) {
  const [top, id] = route.parts;
  switch (top || 'fleet') {
    case 'fleet': return html`<${FleetView} route=${route} />`;
    case 'instances': return id ? html`<${InstanceView} id=${id} route=${route} />` : html`<${InstancesView} route=${route} />`;
    case 'rollouts': return html`<${RolloutsView} route=${route} />`;
    case 'alerts': return html`<${AlertsView} route=${route} />`;
    case 'oncall': return html`<${OncallView} route=${route} />`;
    case 'incidents': return id ? html`<${IncidentView} id=${id} route=${route} />` : html`<${IncidentsView} route=${route} />`;
    case 'tenants': return html`<${TenantsView} route=${route} />`;
    case 'workspaces': return html`<${WorkspacesView} route=${route} />`;
    case 'announcements': return html`<${AnnouncementsView} route=${route} />`;
    case 'marketplace': return html`<${MarketplaceView} route=${route} />`;
    case 'usage': return html`<${UsageView} route=${route} />`;
    case 'audit': return html`<${AuditView} route=${route} />`;
    default: return html`<p class="error" role="alert">There is no view “${top}”. <a href="#/fleet">Go to the fleet.</a></p>`;
  }
}

function Shell({ onSignOut }) {
  const route = useRoute();
  const [menu, setMenu] = useState(false);
  const moved = useRef(false);
  const top = route.parts[0] || 'fleet';
  const who = session.who;
  // whoami gives the tenant's id (and its names, where the server adds them); otherwise the
  // name comes from the tenant itself (a tenant token lists its own tenant). The id stays until
  // that list arrives, and if it cannot be read.
  const tenants = useTenants();
  const mine = who.tenant ? tenants.find((t) => t.metadata.id === who.tenant) : null;
  const tenantLabel = who.tenant_display_name || who.tenant_name
    || (mine ? mine.spec?.display_name || mine.metadata.name || who.tenant : who.tenant);
  useEffect(() => {
    const label = NAV.find(([k]) => k === top)?.[1] || 'Hangar';
    document.title = `${label} · Hangar`;
    setMenu(false);
    // After a move between views, focus goes to the new content (screen readers announce it);
    // on the first load it stays at the top, where Tab reaches the skip link first.
    if (moved.current) document.getElementById('main')?.focus({ preventScroll: true });
    moved.current = true;
  }, [top]);
  return html`<div class="shell">
    <a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <header class="top">
      <button type="button" class="menu" aria-expanded=${menu} aria-controls="nav" onClick=${() => setMenu(!menu)}>☰<span class="sr-only"> Menu</span></button>
      <a class="brand" href="#/fleet"><span class="logo" aria-hidden="true">▲</span> Hangar</a>
      <span class="who" data-testid="whoami" title=${who.tenant ? `tenant ${who.tenant}` : undefined}>${who.role}${who.tenant ? ` · ${tenantLabel}` : ' · platform'}${can('operator') ? '' : ' · read-only'}</span>
      <button type="button" onClick=${onSignOut}>Sign out</button>
    </header>
    <nav id="nav" class=${menu ? 'open' : ''} aria-label="Views">
      <ul>${NAV.map(([k, label]) => html`<li><a href=${href([k])} aria-current=${top === k ? 'page' : undefined}>${label}</a></li>`)}</ul>
    </nav>
    <main id="main" tabindex="-1"><${View} route=${route} /></main>
  </div>`;
}

function App() {
  const [state, setState] = useState(session.token ? 'checking' : 'signed-out');
  const [expired, setExpired] = useState(false);
  useEffect(() => onUnauthenticated(() => { signOut(); setExpired(true); setState('signed-out'); }), []);
  useEffect(() => {
    if (state !== 'checking') return;
    api('GET', '/v1/whoami')
      .then((w) => { session.who = w; setState('signed-in'); })
      .catch(() => { signOut(); setState('signed-out'); });
  }, [state]);
  if (state === 'checking') return html`<p class="boot">Signing in…</p>`;
  if (state === 'signed-out') return html`<${SignIn} expired=${expired} onSignedIn=${() => { setExpired(false); setState('signed-in'); }} />`;
  return html`<${Shell} onSignOut=${() => { signOut(); setState('signed-out'); }} />`;
}

const root = document.getElementById('app');
root.textContent = ''; // the "Loading" placeholder: render() adds to what is there
render(html`<${App} />`, root);
