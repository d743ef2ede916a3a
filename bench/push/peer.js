// The peer for bench/push: @parse/node-apn (what a self-hosted chat server uses to push without
// a gateway) sending the same notifications straight to the APNs fake, `concurrency` in flight.
// Usage: node peer.js <host> <port> <ca.pem> <key.p8> <keyId> <teamId> <device> <n> <concurrency>
'use strict';
const fs = require('fs');
const path = require('path');
const apn = require(path.join(__dirname, 'node_modules', '@parse', 'node-apn'));
const [host, port, ca, keyFile, keyId, teamId, device, nText, concText] = process.argv.slice(2);
const n = Number(nText), concurrency = Number(concText);

const provider = new apn.Provider({
  token: { key: fs.readFileSync(keyFile), keyId, teamId },
  address: host, port: Number(port), ca: fs.readFileSync(ca), production: false,
});

function note() {
  const note = new apn.Notification();
  note.topic = 'chat.hangar.ios';
  note.alert = { title: 'alice', body: 'Lunch at noon?' };
  note.badge = 1;
  note.sound = 'default';
  note.pushType = 'alert';
  note.priority = 10;
  note.payload = { ejson: JSON.stringify({ host: 'https://chat.acme.test', messageId: 'm1', rid: 'GENERAL', notificationType: 'message' }) };
  return note;
}

async function run(count, inFlight, latencies) {
  let next = 0, sent = 0, failed = 0;
  async function worker() {
    while (next < count) {
      next++;
      const t = process.hrtime.bigint();
      const r = await provider.send(note(), device);
      latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      sent += r.sent.length;
      failed += r.failed.length;
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { sent, failed };
}

(async () => {
  await run(2000, concurrency, []);  // warm-up, as the gateway gets
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const latencies = [];
  const r = await run(n, concurrency, latencies);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  const version = require(path.join(__dirname, 'node_modules', '@parse', 'node-apn', 'package.json')).version;
  process.stdout.write(JSON.stringify({ version, sent: r.sent, failed: r.failed, seconds, cpu_seconds: (cpu.user + cpu.system) / 1e6, p50_ms: pct(0.5), p99_ms: pct(0.99) }) + '\n');
  provider.shutdown();
  process.exit(r.failed === 0 ? 0 : 1);
})().catch((e) => { console.error(e); process.exit(1); });
