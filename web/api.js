// The dashboard's only way to the data: Hangar's public API with the signed-in token, and its
// watch streams (server-sent events read through fetch, so the token stays in a header and
// never in a URL).
import { useEffect, useState, useRef, useCallback } from 'preact/hooks';

const TOKEN_KEY = 'hangar.token';

export const session = {
  token: sessionStorage.getItem(TOKEN_KEY) || localStorage.getItem(TOKEN_KEY) || '',
  who: null, // GET /v1/whoami: {token, tenant, role, user}
};

export function saveToken(token, remember) {
  session.token = token;
  sessionStorage.setItem(TOKEN_KEY, token);
  if (remember) localStorage.setItem(TOKEN_KEY, token);
}

export function signOut() {
  session.token = '';
  session.who = null;
  sessionStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(TOKEN_KEY);
  closeAllWatches();
}

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || {};
  }
}

const listeners = new Set(); // told when a call comes back 401 (token expired or revoked)
export function onUnauthenticated(f) {
  listeners.add(f);
  return () => listeners.delete(f);
}

function headers(extra) {
  const h = { Accept: 'application/json', ...extra };
  if (session.token) h.Authorization = `Bearer ${session.token}`;
  return h;
}

async function failure(res) {
  let code = 'http_' + res.status;
  let message = res.statusText || `HTTP ${res.status}`;
  let details;
  try {
    const body = await res.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
      details = body.error.details;
    } else if (body && body.detail) {
      message = body.detail;  // application/problem+json (the metering API)
    }
  } catch (_) { /* not JSON */ }
  if (res.status === 401) listeners.forEach((f) => f());
  return new ApiError(res.status, code, message, details);
}

// api('GET', '/v1/instances') → parsed JSON (or text for text/* answers); throws ApiError.
export async function api(method, path, body, opts = {}) {
  const init = { method, headers: headers(opts.headers) };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  } else if (opts.body !== undefined) {
    init.body = opts.body;  // sent as it is (an upload), with the caller's Content-Type
  }
  const res = await fetch(path, init);
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return null;
  const type = res.headers.get('content-type') || '';
  if (opts.raw) return res;
  return type.includes('json') ? res.json() : res.text();
}

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

// Every page of a list (bounded: 20 pages of 1000).
export async function listAll(plural, params = {}) {
  let items = [];
  let cursor;
  let revision = 0;
  for (let page = 0; page < 20; page++) {
    const r = await api('GET', `/v1/${plural}${query({ ...params, limit: 1000, cursor })}`);
    items = items.concat(r.items);
    if (!revision) revision = r.revision;
    if (!r.next_cursor) break;
    cursor = r.next_cursor;
  }
  return { items, revision };
}

// ---- Live collections --------------------------------------------------------------------
// One watch stream per kind, shared by every view that shows it (a browser keeps at most six
// connections to one server, so views never open one each) and closed when the last view
// using it goes away.

const feeds = new Map(); // plural → Feed

class Feed {
  constructor(plural) {
    this.plural = plural;
    this.items = new Map();
    this.revision = 0;
    this.loaded = false;
    this.error = null;
    this.subscribers = new Set();
    this.abort = null;
    this.closeTimer = null;
    this.retryTimer = null;
    this.live = false;
  }

  subscribe(f) {
    clearTimeout(this.closeTimer);
    this.subscribers.add(f);
    if (!this.abort && !this.retryTimer) this.start();
    return () => {
      this.subscribers.delete(f);
      if (this.subscribers.size === 0) {
        // Linger a little: moving between views that both show this kind keeps the stream.
        this.closeTimer = setTimeout(() => this.stop(), 3000);
      }
    };
  }

  notify() {
    this.subscribers.forEach((f) => f());
  }

  stop() {
    if (this.abort) this.abort.abort();
    this.abort = null;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    feeds.delete(this.plural);
  }

  async start() {
    this.retryTimer = null;
    const ctrl = new AbortController();
    this.abort = ctrl;
    try {
      if (!this.loaded) {
        const { items, revision } = await listAll(this.plural);
        this.items = new Map(items.map((o) => [o.metadata.id, o]));
        this.revision = revision;
        this.loaded = true;
        this.error = null;
        this.notify();
      }
      await this.stream(ctrl);
    } catch (e) {
      if (ctrl.signal.aborted) return;
      this.error = e;
      if (e instanceof ApiError && e.status === 410) this.loaded = false; // too far behind: list again
      this.live = false;
      this.notify();
      if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return;
    }
    if (ctrl.signal.aborted || this.subscribers.size === 0) return;
    this.abort = null;
    this.retryTimer = setTimeout(() => this.start(), 2000);
  }

  async stream(ctrl) {
    const res = await fetch(`/v1/${this.plural}?watch=1&since=${this.revision}`, {
      headers: headers({ Accept: 'text/event-stream' }),
      signal: ctrl.signal,
    });
    if (!res.ok) throw await failure(res);
    this.live = true;
    this.error = null;
    this.notify();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let end;
      let changed = false;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        changed = this.apply(block) || changed;
      }
      if (changed) this.notify();
    }
    this.live = false;
    throw new Error('the watch stream ended');
  }

  apply(block) {
    let event = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (!data) return false;
    const msg = JSON.parse(data);
    if (event === 'error') throw new ApiError(msg.code === 'gone' ? 410 : 500, msg.code, msg.message);
    const o = msg.object;
    if (!o || !o.metadata) return false;
    this.revision = Math.max(this.revision, msg.revision || 0);
    if (msg.type === 'DELETED') this.items.delete(o.metadata.id);
    else this.items.set(o.metadata.id, o);
    return true;
  }
}

function feed(plural) {
  let f = feeds.get(plural);
  if (!f) {
    f = new Feed(plural);
    feeds.set(plural, f);
  }
  return f;
}

export function closeAllWatches() {
  for (const f of [...feeds.values()]) f.stop();
}

// The live list of a kind: {items, loaded, error, live}. Items are sorted by name.
export function useLive(plural) {
  const [, setTick] = useState(0);
  const f = feed(plural);
  useEffect(() => f.subscribe(() => setTick((t) => t + 1)), [plural]);
  const items = [...f.items.values()].sort((a, b) => (a.metadata.name || '').localeCompare(b.metadata.name || ''));
  return { items, loaded: f.loaded, error: f.error, live: f.live, byId: f.items };
}

// One-shot fetch with reload: {data, error, loading, reload}. `deps` re-fetch when they change.
export function useFetch(path, deps = []) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const seq = useRef(0);
  const load = useCallback(async () => {
    if (!path) return;
    const n = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    try {
      const data = await api('GET', path);
      if (n === seq.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (n === seq.current) setState({ data: null, error, loading: false });
    }
  }, [path]);
  useEffect(() => { load(); }, [path, ...deps]);
  return { ...state, reload: load };
}

// Roles in order of power; a view shows a write action only when the token's role allows it.
const RANK = { viewer: 0, operator: 1, owner: 2, admin: 3 };
export function can(need) {
  return session.who && RANK[session.who.role] >= RANK[need];
}
export function isAdmin() {
  return session.who && session.who.role === 'admin';
}

// The tenants, for names in every view and the tenant choosers of platform admins: one list,
// refreshed at most once a minute (a watch stream each would cost connections the views need).
let tenantCache = { at: 0, items: [], names: new Map(), loading: null };
export function useTenants() {
  const [, setTick] = useState(0);
  useEffect(() => {
    if (Date.now() - tenantCache.at < 60000) return;
    if (!tenantCache.loading) {
      tenantCache.loading = listAll('tenants')
        .then(({ items }) => { tenantCache = { at: Date.now(), items, names: new Map(items.map((t) => [t.metadata.id, t.metadata.name])), loading: null }; })
        .catch(() => { tenantCache.loading = null; });
    }
    tenantCache.loading?.then(() => setTick((t) => t + 1));
  }, []);
  return tenantCache.items;
}

export function useTenantNames() {
  useTenants();
  return (id) => (id ? tenantCache.names.get(id) || id : '—');
}

// PUT an object with a new spec, against the revision shown: a change made meanwhile by
// someone else answers 409 instead of being overwritten.
export function putSpec(plural, o, spec) {
  return api('PUT', `/v1/${plural}/${o.metadata.id}`, { spec }, { headers: { 'If-Match': String(o.metadata.revision) } });
}
