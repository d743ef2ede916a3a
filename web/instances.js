// Instances: the filtered list, and one instance in full with its charts, live log tail and
// the actions an operator takes (restart, suspend or resume, resize, upgrade).
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, useLive, useFetch, can, query, putSpec, useTenantNames } from './api.js';
import {
  html, Badge, Time, Table, Section, LiveDot, Loading, ErrorNote, KeyValues, ConfirmAction, Field, Chart,
  href, navigate, name, fmtTime,
} from './ui.js';
import { condition, health, trouble } from './fleet.js';

export function InstancesView({ route }) {
  const inst = useLive('instances');
  const tenantName = useTenantNames();
  const { q = '', phase = '', health: h = '', product = '' } = route.params;
  const set = (k, v) => navigate(['instances'], { ...route.params, [k]: v });
  if (!inst.loaded) return html`<h1>Instances</h1><${ErrorNote} error=${inst.error} /><${Loading} what="instances" />`;
  const needle = q.toLowerCase();
  const rows = inst.items
    .filter((o) => !phase || (o.status?.phase || 'Pending') === phase)
    .filter((o) => !h || health(o) === h)
    .filter((o) => !product || o.spec.product === product)
    .filter((o) => !needle || [name(o), o.metadata.id, o.spec.product, o.spec.domain, tenantName(o.metadata.tenant)]
      .some((s) => (s || '').toLowerCase().includes(needle)))
    .sort((a, b) => (trouble(a)?.[0] ?? 99) - (trouble(b)?.[0] ?? 99) || name(a).localeCompare(name(b)));
  const phases = [...new Set(inst.items.map((o) => o.status?.phase || 'Pending'))];
  const products = [...new Set(inst.items.map((o) => o.spec.product))];
  return html`
    <div class="title-row"><h1>Instances</h1><${LiveDot} live=${inst.live} /></div>
    <form class="filters" role="search" onSubmit=${(e) => e.preventDefault()}>
      <${Field} label="Search"><input type="search" value=${q} onInput=${(e) => set('q', e.target.value)} placeholder="name, id, domain, tenant" /><//>
      <${Field} label="Phase"><select value=${phase} onChange=${(e) => set('phase', e.target.value)}>
        <option value="">any</option>${phases.map((p) => html`<option>${p}</option>`)}</select><//>
      <${Field} label="Health"><select value=${h} onChange=${(e) => set('health', e.target.value)}>
        <option value="">any</option>${['healthy', 'unhealthy', 'unknown'].map((p) => html`<option>${p}</option>`)}</select><//>
      <${Field} label="Product"><select value=${product} onChange=${(e) => set('product', e.target.value)}>
        <option value="">any</option>${products.map((p) => html`<option>${p}</option>`)}</select><//>
    </form>
    <${Table} caption="Instances" testid="instances" empty="No instance matches."
      head=${['Name', 'Tenant', 'Product', 'Version', 'Phase', 'Health', 'Updated']}
      rows=${rows.map((o) => ({
        key: o.metadata.id,
        cells: [html`<a href=${href(['instances', o.metadata.id])}>${name(o)}</a>`, tenantName(o.metadata.tenant),
          o.spec.product, o.status?.version || o.spec.version, html`<${Badge} value=${o.status?.phase || 'Pending'} />`,
          html`<${Badge} value=${health(o)} />`, html`<${Time} at=${o.metadata.updated_at} />`],
      }))} />`;
}

const change = (o, fields) => putSpec('instances', o, { ...o.spec, ...fields });

function Actions({ o, plans }) {
  const products = useFetch('/v1/products?limit=1000');
  if (!can('operator')) return null;
  const id = o.metadata.id;
  const suspended = !!o.spec.suspended;
  const versions = (products.data?.items.find((p) => p.metadata.name === o.spec.product)?.spec.versions || []).map((v) => v.version);
  return html`<div class="actions" role="group" aria-label="Actions">
    <${ConfirmAction} label="Restart" testid="restart" title=${`Restart ${name(o)}?`}
      body="The instance stops and starts again; clients see it go away for a moment."
      run=${() => api('POST', `/v1/instances/${id}:restart`)} />
    ${suspended
      ? html`<${ConfirmAction} label="Resume" testid="resume" title=${`Resume ${name(o)}?`} body="The instance starts again."
          run=${() => api('POST', `/v1/instances/${id}:resume`)} />`
      : html`<${ConfirmAction} label="Suspend" testid="suspend" danger title=${`Suspend ${name(o)}?`}
          body="The instance stops and stays stopped (its data is kept) until it is resumed."
          run=${() => api('POST', `/v1/instances/${id}:suspend`)} />`}
    <${ConfirmAction} label="Resize" testid="resize" title=${`Resize ${name(o)}`} confirmLabel="Resize"
      body="The instance restarts with the new plan's memory and CPU; the tenant's quotas apply."
      run=${(f) => change(o, { plan: f.get('plan') })}>
      <${Field} label="Plan"><select name="plan">${(plans.data?.items || []).map((p) => html`<option value=${p.metadata.name} selected=${p.metadata.name === o.spec.plan}>
        ${p.metadata.name} (${p.spec.memory_mb} MB, ${p.spec.cpu_millis} mCPU)</option>`)}</select><//>
    <//>
    <${ConfirmAction} label="Upgrade" testid="upgrade" title=${`Change ${name(o)}'s version`} confirmLabel="Change version"
      body="The instance restarts on the chosen version."
      run=${(f) => change(o, { version: f.get('version') })}>
      <${Field} label="Version"><select name="version">${versions.map((v) => html`<option selected=${v === (o.spec.version || o.status?.version)}>${v}</option>`)}</select><//>
    <//>
  </div>`;
}

function Charts({ o }) {
  const [data, setData] = useState({});
  const [error, setError] = useState(null);
  useEffect(() => {
    let stop = false;
    const load = async () => {
      const end = Math.floor(Date.now() / 1000);
      const start = end - 3600;
      const sel = `instance="${o.metadata.id}"`;
      const qs = {
        up: `up{${sel}}`,
        latency: `probe_duration_seconds{${sel}}`,
        memory: `instance_memory_rss_bytes{${sel}}`,
        limit: `instance_memory_limit_bytes{${sel}}`,
        cpu: `rate(instance_cpu_seconds_total{${sel}}[2m])`,
      };
      const scope = o.metadata.tenant ? { 'X-Scope-OrgID': o.metadata.tenant } : {};
      const out = {};
      try {
        for (const [k, expr] of Object.entries(qs)) {
          const r = await api('GET', `/api/v1/query_range${query({ query: expr, start, end, step: 15 })}`, undefined, { headers: scope });
          out[k] = r.data.result;
        }
        if (!stop) { setData({ ...out, from: start, to: end }); setError(null); }
      } catch (e) {
        if (!stop) setError(e);
      }
    };
    load();
    const t = setInterval(load, 30000);
    return () => { stop = true; clearInterval(t); };
  }, [o.metadata.id]);
  const mem = data.memory ? [...data.memory.map((s) => ({ ...s, metric: { series: 'rss' } })), ...(data.limit || []).map((s) => ({ ...s, metric: { series: 'limit' } }))] : null;
  return html`<${Section} title="Health and resources (last hour)">
    <${ErrorNote} error=${error} />
    <div class="charts">
      <${Chart} title="Health check (1 = passing)" from=${data.from} to=${data.to} result=${data.up} label=${() => 'up'} />
      <${Chart} title="Probe time" from=${data.from} to=${data.to} result=${data.latency} unit="s" label=${() => 'probe'} />
      <${Chart} title="Memory" from=${data.from} to=${data.to} result=${mem} unit="bytes" label=${(m) => m.series} />
      <${Chart} title="CPU (cores)" from=${data.from} to=${data.to} result=${data.cpu} label=${() => 'cpu'} />
    </div>
  <//>`;
}

function Logs({ id }) {
  const [stream, setStream] = useState('stdout');
  const [follow, setFollow] = useState(true);
  const [text, setText] = useState('');
  const [error, setError] = useState(null);
  const pre = useRef();
  useEffect(() => {
    let offset = null;
    let stop = false;
    let timer;
    setText('');
    const tick = async () => {
      try {
        const res = await api('GET', `/v1/instances/${id}/logs${query({ stream, tail: offset === null ? 200 : undefined, offset: offset ?? undefined })}`, undefined, { raw: true });
        const chunk = await res.text();
        offset = Number(res.headers.get('x-log-offset')) || 0;
        if (!stop && chunk) setText((t) => (t + chunk).slice(-200000));
        setError(null);
      } catch (e) {
        if (!stop) setError(e);
      }
      if (!stop && follow) timer = setTimeout(tick, 1500);
    };
    tick();
    return () => { stop = true; clearTimeout(timer); };
  }, [id, stream, follow]);
  useEffect(() => { if (pre.current && follow) pre.current.scrollTop = pre.current.scrollHeight; }, [text]);
  return html`<${Section} title="Log" actions=${html`<div class="inline">
      <${Field} label="Stream"><select value=${stream} onChange=${(e) => setStream(e.target.value)}><option>stdout</option><option>stderr</option></select><//>
      <label class="check"><input type="checkbox" checked=${follow} onChange=${(e) => setFollow(e.target.checked)} /> Follow</label></div>`}>
    <${ErrorNote} error=${error} />
    <pre class="log" ref=${pre} tabindex="0" aria-label=${`${stream} of the instance`} data-testid="log">${text || '(empty)'}</pre>
  <//>`;
}

// The memory limit in MiB and, in parentheses, how it is enforced. status.memory_limit is the
// mechanism (cgroup2, cgroup1, rlimit, none); the size is status.memory_limit_mb when Hangar
// reports it, else the plan's memory_mb (what the controller applies; 0 or absent: no limit).
export function memoryLimit(s, planName, plans) {
  const raw = s.memory_limit;
  const mechanism = typeof raw === 'string' ? raw : raw && typeof raw === 'object' ? raw.mechanism : undefined;
  let mib = s.memory_limit_mb ?? (raw && typeof raw === 'object' ? raw.mib : undefined);
  if (mib === undefined && !planName) mib = 0; // no plan: no size to apply
  if (mib === undefined && plans.data) {
    const plan = plans.data.items.find((p) => p.metadata.name === planName);
    if (plan) mib = plan.spec?.memory_mb ?? 0;
  }
  if (mib === undefined) return plans.loading ? '…' : mechanism ? `unknown (${mechanism})` : undefined;
  if (!mib) return 'no limit';
  const how = !mechanism ? '' : mechanism === 'none' ? ' (not enforced)' : ` (${mechanism})`;
  return `${mib} MiB${how}`;
}

export function InstanceView({ id }) {
  const inst = useLive('instances');
  const plans = useFetch('/v1/plans?limit=1000');
  const o = inst.byId.get(id);
  if (!inst.loaded) return html`<${ErrorNote} error=${inst.error} /><${Loading} what="the instance" />`;
  if (!o) return html`<h1>Instance</h1><p class="error" role="alert">There is no instance ${id} (or it was deleted). <a href="#/instances">All instances</a></p>`;
  const s = o.status || {};
  const events = [...(s.events || [])].reverse();
  return html`
    <p class="crumbs"><a href="#/instances">Instances</a> / ${name(o)}</p>
    <div class="title-row"><h1>${name(o)}</h1>
      <${Badge} value=${s.phase || 'Pending'} testid="phase" /> <${Badge} value=${health(o)} testid="health" /><${LiveDot} live=${inst.live} /></div>
    <${Actions} o=${o} plans=${plans} />
    <div class="grid2">
      <${Section} title="Spec">
        <${KeyValues} pairs=${[['Id', html`<code>${o.metadata.id}</code>`], ['Product', o.spec.product], ['Version', o.spec.version], ['Plan', o.spec.plan],
          ['Domain', o.spec.domain], ['Release channel', o.spec.release_channel], ['Suspended', o.spec.suspended ? 'yes' : 'no'],
          ['Deletion protection', o.spec.deletion_protection ? 'yes' : 'no'], ['Labels', Object.entries(o.metadata.labels || {}).map(([k, v]) => `${k}=${v}`).join(', ')],
          ['Revision', o.metadata.revision], ['Generation', o.metadata.generation]]} />
      <//>
      <${Section} title="Status">
        <${KeyValues} pairs=${[['Phase', s.phase], ['Running version', s.version], ['Endpoint', s.endpoint], ['Restarts', s.restarts ?? 0],
          ['OOM kills', s.oom_kills ?? 0], ['Last exit', s.last_exit ? JSON.stringify(s.last_exit) : undefined], ['Memory limit', memoryLimit(s, o.spec.plan, plans)],
          ['Observed generation', s.observed_generation], ['Updated', fmtTime(o.metadata.updated_at)]]} />
      <//>
    </div>
    <${Section} title="Conditions">
      <${Table} caption="Conditions" testid="conditions" head=${['Type', 'Status', 'Reason', 'Message', 'Since']}
        rows=${(s.conditions || []).map((c) => ({ key: c.type, cells: [c.type, html`<${Badge} value=${c.status} />`, c.reason, c.message, html`<${Time} at=${c.last_transition_time} />`] }))} />
    <//>
    <${Section} title="Events (newest first)">
      <${Table} caption="Events" testid="events" head=${['When', 'Reason', 'Message']}
        rows=${events.map((e, i) => ({ key: `${e.time}-${i}`, cells: [html`<${Time} at=${e.time} />`, e.reason, e.message] }))} />
    <//>
    <${Charts} o=${o} />
    <${Logs} id=${id} />`;
}
