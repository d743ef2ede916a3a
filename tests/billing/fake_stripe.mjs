// A local stand-in for Stripe's API, for tests: the calls Hangar makes, answered in Stripe's
// shapes (form-encoded requests, a Bearer secret key, Idempotency-Key replays, a declined card
// as a 402 with an error object), and its webhooks signed as Stripe signs them (the `stripe`
// package's own signing, so a mistake in Hangar's verification cannot hide behind one here).
//
//   node fake_stripe.mjs <port-file> <secret-key> <webhook-secret>
//
// Test payment methods, as in Stripe's test mode: pm_card_visa succeeds,
// pm_card_chargeDeclined is declined. Control (not Stripe's): POST /_fake/webhook-target
// {url} says where webhooks go; GET /_fake/webhooks lists what was delivered and how it went.
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const Stripe = require('stripe');
const [portFile, secretKey, webhookSecret] = process.argv.slice(2);
const stripe = new Stripe(secretKey);

const customers = new Map();
const intents = new Map();
const replays = new Map(); // Idempotency-Key → [status, body]
const deliveries = [];
let webhookTarget = '';
let seq = 0;
const newId = (prefix) => `${prefix}_fake${(++seq).toString().padStart(14, '0')}`;
const now = () => Math.floor(Date.now() / 1000);

// Stripe's form encoding: a[b]=c is {a: {b: c}}.
function parseForm(body) {
  const out = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const m = k.match(/^([^[]+)\[([^\]]+)\]$/);
    if (m) {
      out[m[1]] = out[m[1]] || {};
      out[m[1]][m[2]] = v;
    } else {
      out[k] = v;
    }
  }
  return out;
}

function error(status, type, message, extra = {}) {
  return [status, { error: { type, message, ...extra } }];
}

async function deliver(type, object) {
  const event = {
    id: newId('evt'),
    object: 'event',
    api_version: '2024-06-20',
    created: now(),
    type,
    data: { object },
    livemode: false,
  };
  const payload = JSON.stringify(event);
  const header = stripe.webhooks.generateTestHeaderString({ payload, secret: webhookSecret });
  const record = { id: event.id, type, status: 0 };
  deliveries.push(record);
  if (!webhookTarget) return;
  try {
    const r = await fetch(webhookTarget, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Stripe-Signature': header },
      body: payload,
      signal: AbortSignal.timeout(10000),
    });
    record.status = r.status;
    record.answer = await r.text();
  } catch (e) {
    record.status = -1;
    record.answer = String(e);
  }
}

function createCustomer(f) {
  const c = {
    id: newId('cus'),
    object: 'customer',
    created: now(),
    email: f.email || null,
    metadata: f.metadata || {},
    invoice_settings: { default_payment_method: (f.invoice_settings || {}).default_payment_method || null },
    livemode: false,
  };
  customers.set(c.id, c);
  return [200, c];
}

function createIntent(f) {
  const amount = Number(f.amount);
  if (!Number.isInteger(amount) || amount < 1) {
    return error(400, 'invalid_request_error', 'Invalid integer: ' + f.amount, { param: 'amount' });
  }
  if (!/^[a-z]{3}$/.test(f.currency || '')) {
    return error(400, 'invalid_request_error', 'Invalid currency: ' + f.currency, { param: 'currency' });
  }
  if (f.customer && !customers.has(f.customer)) {
    return error(400, 'invalid_request_error', `No such customer: '${f.customer}'`, { param: 'customer', code: 'resource_missing' });
  }
  const pi = {
    id: newId('pi'),
    object: 'payment_intent',
    amount,
    amount_received: 0,
    currency: f.currency,
    customer: f.customer || null,
    description: f.description || null,
    metadata: f.metadata || {},
    payment_method: f.payment_method || null,
    status: 'requires_payment_method',
    created: now(),
    last_payment_error: null,
    livemode: false,
  };
  intents.set(pi.id, pi);
  if (f.confirm !== 'true') return [200, pi];
  if (pi.payment_method === 'pm_card_visa') {
    pi.status = 'succeeded';
    pi.amount_received = amount;
    setImmediate(() => deliver('payment_intent.succeeded', pi));
    return [200, pi];
  }
  const message = 'Your card was declined.';
  pi.last_payment_error = { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message };
  setImmediate(() => deliver('payment_intent.payment_failed', pi));
  return error(402, 'card_error', message, { code: 'card_declined', decline_code: 'generic_decline', payment_intent: pi });
}

function route(method, path, query, form) {
  if (method === 'POST' && path === '/v1/customers') return createCustomer(form);
  if (method === 'POST' && path === '/v1/payment_intents') return createIntent(form);
  if (method === 'GET' && path === '/v1/payment_intents') {
    let data = [...intents.values()].reverse();
    if (query.get('customer')) data = data.filter((p) => p.customer === query.get('customer'));
    return [200, { object: 'list', url: '/v1/payment_intents', has_more: false, data }];
  }
  let m = path.match(/^\/v1\/(payment_intents|customers)\/([A-Za-z0-9_]+)$/);
  if (method === 'GET' && m) {
    const found = (m[1] === 'customers' ? customers : intents).get(m[2]);
    return found ? [200, found] : error(404, 'invalid_request_error', `No such ${m[1]}: '${m[2]}'`, { code: 'resource_missing' });
  }
  return error(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}).`);
}

const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const url = new URL(req.url, 'http://fake');
    const send = ([status, obj]) => {
      res.writeHead(status, { 'Content-Type': 'application/json', 'Request-Id': newId('req') });
      res.end(JSON.stringify(obj));
    };
    if (url.pathname === '/_fake/webhook-target' && req.method === 'POST') {
      webhookTarget = JSON.parse(body).url;
      return send([200, { url: webhookTarget }]);
    }
    if (url.pathname === '/_fake/webhooks') return send([200, { data: deliveries }]);
    if (req.headers.authorization !== `Bearer ${secretKey}`) {
      return send(error(401, 'invalid_request_error', 'Invalid API Key provided.'));
    }
    if (req.method === 'POST' && !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded')) {
      return send(error(400, 'invalid_request_error', 'Stripe takes form-encoded bodies.'));
    }
    const key = req.headers['idempotency-key'];
    if (req.method === 'POST' && key && replays.has(key)) return send(replays.get(key));
    const answer = route(req.method, url.pathname, url.searchParams, parseForm(body));
    if (req.method === 'POST' && key) replays.set(key, answer);
    send(answer);
  });
});

server.listen(0, '127.0.0.1', () => {
  writeFileSync(portFile, String(server.address().port));
});
