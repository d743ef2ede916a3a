// Shared pieces of every view: the htm binding, links, badges, times, tables, confirmations,
// charts and error notes.
import { h } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import uPlot from 'uplot';

export const html = htm.bind(h);

// ---- Routing: every view is a shareable URL (#/instances/ins_…?tab=logs) ------------------

export function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, q = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, params: Object.fromEntries(new URLSearchParams(q)) };
}

export function useRoute() {
  const [route, setRoute] = useState(parseHash());
  useEffect(() => {
    const f = () => setRoute(parseHash());
    window.addEventListener('hashchange', f);
    return () => window.removeEventListener('hashchange', f);
  }, []);
  return route;
}

export function href(parts, params) {
  const p = '#/' + parts.map(encodeURIComponent).join('/');
  const q = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== undefined)).toString() : '';
  return q ? `${p}?${q}` : p;
}

export function navigate(parts, params) {
  location.hash = href(parts, params);
}

// ---- Small components --------------------------------------------------------------------

const TONE = {
  Running: 'ok', Ready: 'ok', Completed: 'ok', Progressing: 'busy', True: 'ok', healthy: 'ok', resolved: 'ok', Succeeded: 'ok', active: 'ok', Published: 'ok', registered: 'ok',
  Provisioning: 'busy', Deleting: 'busy', pending: 'warn', Pending: 'busy', InProgress: 'busy', investigating: 'bad', identified: 'warn', monitoring: 'busy', acknowledged: 'warn', Reviewed: 'busy', Draft: 'muted',
  Failed: 'bad', False: 'bad', firing: 'bad', triggered: 'bad', Halted: 'bad', unhealthy: 'bad', critical: 'bad', P1: 'bad', P2: 'warn', error: 'bad',
  live: 'ok', scheduled: 'busy', withdrawn: 'muted', ended: 'muted', info: 'busy',
  Suspended: 'muted', expired: 'muted', Paused: 'muted', Aborted: 'muted', suppressed: 'muted', Unknown: 'muted', warning: 'warn', P3: 'warn', P4: 'muted',
};

export function Badge({ value, testid }) {
  if (value === undefined || value === null || value === '') return html`<span class="badge muted">—</span>`;
  return html`<span class=${'badge ' + (TONE[value] || 'muted')} data-testid=${testid}>${String(value)}</span>`;
}

export function Time({ at }) {
  if (!at) return html`<span class="muted">—</span>`;
  const d = new Date(at);
  if (isNaN(d)) return html`<span>${at}</span>`;
  return html`<time datetime=${at} title=${d.toISOString()}>${ago(d)}</time>`;
}

export function ago(d) {
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  const a = Math.abs(s);
  const t = a < 60 ? `${a}s` : a < 3600 ? `${Math.floor(a / 60)}m` : a < 86400 ? `${Math.floor(a / 3600)}h` : `${Math.floor(a / 86400)}d`;
  return s >= 0 ? `${t} ago` : `in ${t}`;
}

// RFC 3339 UTC to the second, as the API writes times.
export function rfc3339(d) {
  return new Date(d).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function fmtTime(at) {
  if (!at) return '—';
  const d = typeof at === 'number' ? new Date(at) : new Date(at);
  return isNaN(d) ? String(at) : d.toISOString().replace('T', ' ').replace(/:\d\d\.\d+Z$/, 'Z');
}

export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.status ? `${error.status} ` : ''}${error.message || String(error)}</p>`;
}

export function Loading({ what }) {
  return html`<p class="muted" aria-live="polite">Loading ${what || ''}…</p>`;
}

export function LiveDot({ live }) {
  return html`<span class=${'live ' + (live ? 'on' : 'off')} title=${live ? 'Live: updates as they happen' : 'Reconnecting…'} aria-label=${live ? 'live' : 'reconnecting'}></span>`;
}

export function Section({ title, children, actions }) {
  return html`<section class="card"><header class="card-head"><h2>${title}</h2>${actions}</header>${children}</section>`;
}

// A table with a caption for screen readers; `rows` are arrays of cells.
export function Table({ caption, head, rows, empty, testid }) {
  if (!rows.length) return html`<p class="muted" data-testid=${testid}>${empty || 'Nothing here.'}</p>`;
  return html`<div class="table-wrap"><table data-testid=${testid}>
    <caption class="sr-only">${caption}</caption>
    <thead><tr>${head.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
    <tbody>${rows.map((r) => html`<tr key=${r.key}>${r.cells.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody>
  </table></div>`;
}

export function KeyValues({ pairs }) {
  return html`<dl class="kv">${pairs.filter(([, v]) => v !== undefined).map(([k, v]) => html`<dt>${k}</dt><dd>${v === null || v === '' ? '—' : v}</dd>`)}</dl>`;
}

// A write action: the button opens a dialog that says what will happen; Confirm runs `run`
// (a promise); its error stays in the dialog. Native <dialog> keeps focus inside and Escape
// cancels.
export function ConfirmAction({ label, title, body, run, danger, confirmLabel, children, onDone, testid }) {
  const ref = useRef();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const open = () => { setError(null); ref.current.showModal(); };
  const confirm = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await run(new FormData(e.target));
      ref.current.close();
      if (onDone) onDone(r);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<span class="action">
    <button type="button" class=${danger ? 'danger' : ''} onClick=${open} data-testid=${testid}>${label}</button>
    <dialog ref=${ref} aria-labelledby=${testid ? testid + '-title' : undefined}>
      <form method="dialog" onSubmit=${confirm}>
        <h3 id=${testid ? testid + '-title' : undefined}>${title || label}</h3>
        ${body ? html`<p>${body}</p>` : null}
        ${children}
        <${ErrorNote} error=${error} />
        <div class="buttons">
          <button type="button" onClick=${() => ref.current.close()}>Cancel</button>
          <button type="submit" class=${danger ? 'danger' : 'primary'} disabled=${busy}>${busy ? 'Working…' : confirmLabel || 'Confirm'}</button>
        </div>
      </form>
    </dialog>
  </span>`;
}

export function Field({ label, children, hint }) {
  return html`<label class="field"><span>${label}</span>${children}${hint ? html`<small class="muted">${hint}</small>` : null}</label>`;
}

// ---- Charts ------------------------------------------------------------------------------

// A uPlot line chart of Prometheus matrix results: [{metric, values: [[t, "v"], ...]}].
export function Chart({ title, result, unit, label, from, to }) {
  const box = useRef();
  const plot = useRef();
  // No series, or series without a point: only the "No samples yet" note, no empty grid.
  const empty = !!result && !result.some((s) => s.values && s.values.length);
  useEffect(() => {
    if (!box.current || !result || empty) return undefined;
    const times = [...new Set(result.flatMap((s) => s.values.map((v) => v[0])))].sort((a, b) => a - b);
    const index = new Map(times.map((t, i) => [t, i]));
    const series = result.map((s) => {
      const ys = new Array(times.length).fill(null);
      for (const [t, v] of s.values) ys[index.get(t)] = Number(v);
      return ys;
    });
    const colours = ['#1f5fbf', '#b3261e', '#1b7f3b', '#8a4b00', '#6b3fa0'];
    const opts = {
      width: Math.max(240, box.current.clientWidth),
      height: 160,
      series: [{}, ...result.map((s, i) => ({
        label: label ? label(s.metric) : Object.values(s.metric).join(' ') || title,
        stroke: colours[i % colours.length],
        width: 2,
        value: (u, v) => (v === null ? '—' : fmtValue(v, unit)),
      }))],
      scales: { x: { time: true, ...(from && to ? { range: () => [from, to] } : {}) } },
      axes: [{}, { values: (u, vals, axisIdx, space, incr) => fmtTicks(vals, unit, incr), size: 70 }],
      legend: { show: result.length > 0 },
    };
    plot.current?.destroy();
    plot.current = new uPlot(opts, [times, ...series], box.current);
    const ro = new ResizeObserver(() => { if (box.current) plot.current?.setSize({ width: Math.max(240, box.current.clientWidth), height: 160 }); });
    ro.observe(box.current);
    return () => { ro.disconnect(); plot.current?.destroy(); plot.current = null; };
  }, [result, from, to, empty]);
  return html`<figure class="chart" aria-label=${title}>
    <figcaption>${title}</figcaption>
    ${empty ? html`<p class="muted">No samples yet.</p>` : html`<div ref=${box}></div>`}
  </figure>`;
}

export function fmtValue(v, unit) {
  if (v === null || v === undefined || isNaN(v)) return '—';
  if (unit === 'bytes') {
    const u = ['B', 'KiB', 'MiB', 'GiB'];
    let i = 0;
    while (Math.abs(v) >= 1024 && i < u.length - 1) { v /= 1024; i++; }
    return `${v.toFixed(v < 10 && i ? 1 : 0)} ${u[i]}`;
  }
  if (unit === 's') return v < 1 ? `${(v * 1000).toFixed(0)} ms` : `${v.toFixed(2)} s`;
  if (unit === '%') return `${(v * 100).toFixed(1)}%`;
  return Math.abs(v) >= 1000 ? v.toFixed(0) : String(Math.round(v * 1000) / 1000);
}

// Axis labels: one scale for every tick (the largest one's unit) and as many decimals as the
// tick spacing needs, so neighbouring ticks never print the same text (0.5 ms, 1.0 ms, 1.5 ms).
export function fmtTicks(vals, unit, incr) {
  const finite = vals.filter((v) => v !== null && v !== undefined && isFinite(v));
  if (!finite.length) return vals.map(() => '');
  const max = Math.max(...finite.map(Math.abs));
  let div = 1;
  let suffix = '';
  if (unit === 'bytes') {
    const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (max / div >= 1024 && i < u.length - 1) { div *= 1024; i++; }
    suffix = ` ${u[i]}`;
  } else if (unit === 's') {
    [div, suffix] = max < 1 ? [0.001, ' ms'] : [1, ' s'];
  } else if (unit === '%') {
    [div, suffix] = [0.01, '%'];
  }
  let step = incr > 0 ? incr : 0;
  if (!step) {
    const sorted = [...finite].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) if (sorted[i] > sorted[i - 1] && (!step || sorted[i] - sorted[i - 1] < step)) step = sorted[i] - sorted[i - 1];
  }
  const scaled = step / div;
  let dec = 0;
  if (scaled > 0) {
    // The decimals that write the step exactly (0.25 → 2), at most one past its magnitude
    // (a 1.907 MiB step gets 1, not 6).
    let exact = 0;
    while (exact < 6 && Math.abs(Math.round(scaled * 10 ** exact) - scaled * 10 ** exact) > 1e-6 * 10 ** exact) exact++;
    dec = Math.min(exact, Math.max(0, Math.ceil(-Math.log10(scaled) - 1e-9) + 1));
  }
  const fmt = (d) => vals.map((v) => (v === null || v === undefined || !isFinite(v) ? '' : `${(v / div).toFixed(d)}${suffix}`));
  let out = fmt(dec);
  // A safeguard for spacings that are not round in the shown unit: add decimals until distinct.
  for (let d = dec + 1; d <= dec + 3 && new Set(out.filter(Boolean)).size < out.filter(Boolean).length; d++) out = fmt(d);
  return out;
}

export function name(o) {
  return o?.metadata?.name || o?.metadata?.id || '';
}
