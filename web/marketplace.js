// Marketplace: the apps the platform publishes, their versions, downloads and installs. Publishing
// is an upload of the app's package (`hangar app publish FILE`, or the form here).
import { useState } from 'preact/hooks';
import { api, useLive, useFetch, isAdmin, useTenantNames } from './api.js';
import { html, Badge, Time, Table, Section, LiveDot, Loading, ErrorNote, name } from './ui.js';

function Publish({ onDone }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [done, setDone] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const file = e.target.elements.package.files[0];
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const r = await api('POST', '/v1/apps:publish', undefined, { headers: { 'Content-Type': 'application/zip' }, body: file });
      setDone(`${r.app.metadata.name} ${r.release.spec.version} published`);
      e.target.reset();
      if (onDone) onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="inline-form" onSubmit=${submit} data-testid="publish-form">
    <label class="field"><span>App package (.zip)</span><input name="package" type="file" accept=".zip,application/zip" required /></label>
    <button type="submit" class="primary" disabled=${busy}>${busy ? 'Publishing…' : 'Publish'}</button>
    <${ErrorNote} error=${error} />
    ${done ? html`<p role="status" data-testid="published">${done}</p>` : null}
  </form>`;
}

export function MarketplaceView() {
  const apps = useLive('apps');
  const releases = useFetch('/v1/appreleases?limit=1000', [apps.items.length]);
  const tenantName = useTenantNames();
  if (!apps.loaded) return html`<h1>Marketplace</h1><${ErrorNote} error=${apps.error} /><${Loading} what="apps" />`;
  const byApp = new Map();
  for (const r of releases.data?.items || []) {
    const list = byApp.get(r.spec.app) || [];
    list.push(r);
    byApp.set(r.spec.app, list);
  }
  return html`<div class="title-row"><h1>Marketplace</h1><${LiveDot} live=${apps.live} /></div>
    <p class="muted">Workspaces install these apps from the marketplace (under /marketplace, or its own listener). Downloads and installs are counted as workspaces report them.</p>
    ${isAdmin() ? html`<${Section} title="Publish an app"><${Publish} /><//>` : null}
    <${Section} title="Apps">
      <${Table} caption="Published apps" testid="apps" empty="No apps yet."
        head=${['App', 'Versions', 'Newest', 'Private to', 'Price', 'State', 'Downloads', 'Installed in']}
        rows=${apps.items.map((a) => {
          const rel = (byApp.get(a.metadata.id) || []).sort((x, y) => (y.metadata.created_at || '').localeCompare(x.metadata.created_at || ''));
          const downloads = rel.reduce((n, r) => n + (r.status?.downloads || 0), 0);
          return { key: a.metadata.id, cells: [html`<strong>${a.status?.display_name || name(a)}</strong><br /><code class="muted">${a.status?.app_id}</code>`,
            rel.length, rel[0] ? html`${rel[0].spec.version} <span class="muted">(<${Time} at=${rel[0].metadata.created_at} />)</span>` : '—',
            a.spec.tenant ? tenantName(a.spec.tenant) : 'everyone', a.spec.price ? `${a.spec.price}` : 'free',
            html`<${Badge} value=${a.spec.yanked ? 'withdrawn' : 'live'} />`, html`<span data-testid="downloads">${downloads}</span>`,
            html`<span data-testid="installs">${a.status?.active_installs ?? 0}</span> workspace${a.status?.active_installs === 1 ? '' : 's'}`] };
        })} />
    <//>`;
}
