// node openmeter_sdk.mjs BASE_URL TOKEN: OpenMeter's own JavaScript client (@openmeter/sdk, from
// npm) against Hangar: define a meter, ingest a batch (the SDK sends
// application/cloudevents-batch+json and fills id, source, specversion and time), resend it,
// query it in daily windows grouped by model, list the events, a bad event's error read by the
// SDK from application/problem+json, a metered entitlement with a grant and its value. Exits 1
// naming what differed.
import { createRequire } from 'node:module';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
const sdkPath = require.resolve('@openmeter/sdk');
const { OpenMeter } = await import(sdkPath);

const [base, token] = process.argv.slice(2);
const om = new OpenMeter({ baseUrl: base, apiKey: token });
const problems = [];
const expect = (what, got, want) => {
  if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
};

const meter = await om.meters.create({
  slug: 'sdk_tokens', eventType: 'prompt', aggregation: 'SUM', valueProperty: '$.tokens', groupBy: { model: '$.model' },
});
expect('meter slug', meter.slug, 'sdk_tokens');
const events = [
  { id: 'sdk-1', source: 'sdk-test', type: 'prompt', subject: 'ten_sdk', time: new Date('2026-09-01T10:00:00Z'), data: { tokens: 10, model: 'a' } },
  { id: 'sdk-2', source: 'sdk-test', type: 'prompt', subject: 'ten_sdk', time: new Date('2026-09-01T11:00:00Z'), data: { tokens: 5, model: 'b' } },
  { id: 'sdk-3', source: 'sdk-test', type: 'prompt', subject: 'ten_sdk', time: new Date('2026-09-02T09:00:00Z'), data: { tokens: 7, model: 'a' } },
];
await om.events.ingest(events);
await om.events.ingest(events);  // a resend counts once
// One event with the SDK's own defaults (a random id, its source, now).
await om.events.ingest({ type: 'prompt', subject: 'ten_sdk', data: { tokens: 1, model: 'a' } });
const q = await om.meters.query('sdk_tokens', {
  from: new Date('2026-09-01T00:00:00Z'), to: new Date('2026-09-03T00:00:00Z'), windowSize: 'DAY', groupBy: ['model'],
});
const rows = q.data.map((r) => [r.windowStart.toISOString(), r.groupBy.model, r.value]);
expect('daily rows by model', rows, [
  ['2026-09-01T00:00:00.000Z', 'a', 10], ['2026-09-01T00:00:00.000Z', 'b', 5], ['2026-09-02T00:00:00.000Z', 'a', 7],
]);
if (!(q.data[0].windowStart instanceof Date)) problems.push('windowStart is not decoded as a date by the SDK');
const listed = await om.events.list({ subject: 'ten_sdk', from: new Date('2026-08-30T00:00:00Z') });
expect('events listed', listed.length, 4);
try {
  await om.events.ingest({ id: 'bad', source: 'x', type: 'prompt', subject: '' });
  problems.push('an event without a subject was taken');
} catch (e) {
  if (!/subject/.test(e.message || '') && !/subject/.test(e.detail || '')) problems.push(`the SDK's error does not name the field: ${e.message} ${e.detail}`);
}
// Entitlements v1: a feature, a metered entitlement, a grant, its value.
const feature = await fetch(`${base}/v1/features`, {
  method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
  body: JSON.stringify({ metadata: { name: 'sdk-tokens' }, spec: { key: 'sdk_tokens', meter_slug: 'sdk_tokens' } }),
});
expect('feature created', feature.status, 201);
await om.entitlementsV1.create('ten_sdk', {
  type: 'metered', featureKey: 'sdk_tokens', usagePeriod: { interval: 'MONTH', anchor: new Date('2026-09-01T00:00:00Z') },
});
await om.entitlementsV1.grants.create('ten_sdk', 'sdk_tokens', {
  amount: 100, priority: 1, effectiveAt: new Date('2026-09-01T00:00:00Z'), expiration: { duration: 'YEAR', count: 1 },
});
const value = await om.entitlementsV1.value('ten_sdk', 'sdk_tokens', { time: new Date('2026-09-03T00:00:00Z') });
expect('entitlement value', [value.hasAccess, value.balance, value.usage, value.overage], [true, 78, 22, 0]);
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log('ok');
