#!/usr/bin/env bash
# bench/metering/run.sh HANGAR: durable usage-event ingestion (batches of 100 CloudEvents, POST
# /api/v1/events) and the meter query for one customer's month in daily windows over EVENTS
# (10 million) events, beside PostgreSQL 15 taking the same events as rows (one multi-row INSERT
# ... ON CONFLICT DO NOTHING per batch, Lago's PostgreSQL-only design) and answering the same
# aggregation in SQL over an index on (subject, code, timestamp). Both durable (Hangar's usage
# database synchronous=FULL; PostgreSQL fsync=on, synchronous_commit=on). Server on core 0, the
# load generator (wrk, pgbench) on core 1; every response verified (204 for ingestion, 200 and
# one row per day for queries). CPU time per operation is the server's user+system time.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
events=${EVENTS:-10000000}
work=$(mktemp -d /tmp/hangar-bench-metering-XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ -n "${pgdata:-}" ]; then run_pg "/usr/lib/postgresql/15/bin/pg_ctl -D $pgdata -m fast stop" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
# PostgreSQL's CPU: every running postgres process, plus what its exited backends used (the
# postmaster's children time: pgbench's connections come and go within a run).
pg_ticks() {
    local t=0 pm
    pm=$(head -1 "$pgdata/postmaster.pid")
    for p in $(pgrep -u "$pg_user" postgres || true); do t=$((t + $(awk '{print $14+$15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
    echo $((t + $(awk '{print $16+$17}' "/proc/$pm/stat")))
}
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- sh -c "$1"; else sh -c "$1"; fi; }
pg_user=$([ "$(id -u)" = 0 ] && echo postgres || id -un)
month="from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&windowSize=DAY"

echo "# bench/metering on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); servers on core 0, load on core 1; $events events"
echo
echo "| | events/s | CPU µs/event | p50 | p99 | verified |"
echo "|---|---|---|---|---|---|"

# ---- Hangar
hport=$(free_port)
taskset -c 0 "$bin" serve --listen "127.0.0.1:$hport" --data-dir "$work/hangar" --log-level warn \
    --tenant-rate 0 >"$work/hangar.log" 2>&1 &
hpid=$!; pids+=("$hpid")
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$hport/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
admin=$(cat "$work/hangar/admin-token")
curl -fsS -X POST "http://127.0.0.1:$hport/api/v1/meters" -H "Authorization: Bearer $admin" \
    -d '{"slug":"tokens","eventType":"tokens","aggregation":"SUM","valueProperty":"$.tokens","groupBy":{"model":"$.model"}}' >/dev/null
t0=$(ticks "$hpid")
out=$(RUN=m TOKEN="$admin" taskset -c 1 wrk -t1 -c16 -d10s --latency -s "$here/events.lua" "http://127.0.0.1:$hport")
t1=$(ticks "$hpid")
reqs=$(echo "$out" | awk '/requests in/ {print $1}')
rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
printf '| Hangar ingestion (batches of 100, 16 connections) | %.0f | %.2f | %s | %s | %s |\n' \
    "$(echo "$rps * 100" | bc -l)" "$(echo "($t1 - $t0) * 10000 / ($reqs * 100)" | bc -l)" \
    "$(echo "$out" | awk '$1=="50%" {print $2}')" "$(echo "$out" | awk '$1=="99%" {print $2}')" \
    "$(echo "$out" | sed -n 's/^VERIFIED //p')"
# Up to EVENTS events in all (not measured), then the query.
have=$((reqs * 100)); round=0
while [ "$have" -lt "$events" ]; do
    round=$((round + 1))
    secs=$(( (events - have) / 100000 + 2 )); [ "$secs" -gt 60 ] && secs=60
    more=$(RUN="f$round" TOKEN="$admin" taskset -c 1 wrk -t1 -c16 -d"${secs}s" -s "$here/events.lua" "http://127.0.0.1:$hport")
    have=$((have + $(echo "$more" | awk '/requests in/ {print $1}') * 100))
done
total=$(curl -fsS "http://127.0.0.1:$hport/api/v1/meters/tokens/query?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z" -H "Authorization: Bearer $admin" | python3 -c 'import json,sys; print(int(sum(r["value"] for r in json.load(sys.stdin)["data"])))')
t0=$(ticks "$hpid")
out=$(TOKEN="$admin" EXPECT_STATUS=200 taskset -c 1 wrk -t1 -c4 -d10s --latency -s "$here/../api/verify.lua" \
    "http://127.0.0.1:$hport/api/v1/meters/tokens/query?subject=cust-42&$month")
t1=$(ticks "$hpid")
reqs=$(echo "$out" | awk '/requests in/ {print $1}')
rows=$(curl -fsS "http://127.0.0.1:$hport/api/v1/meters/tokens/query?subject=cust-42&$month" -H "Authorization: Bearer $admin" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]))')
printf '| Hangar query: one customer'"'"'s month, DAY windows, over %s events (%s rows) | %s q/s | %.0f µs/query | %s | %s | %s |\n' \
    "$have" "$rows" "$(echo "$out" | awk '/Requests\/sec/ {print $2}')" "$(echo "($t1 - $t0) * 10000 / $reqs" | bc -l)" \
    "$(echo "$out" | awk '$1=="50%" {print $2}')" "$(echo "$out" | awk '$1=="99%" {print $2}')" \
    "$(echo "$out" | sed -n 's/^VERIFIED //p')"
du_h=$(du -sh "$work/hangar/usage.db" | cut -f1)
kill "$hpid"; wait "$hpid" 2>/dev/null || true

# ---- PostgreSQL 15
pgdir="$work/pg"; mkdir -p "$pgdir"; pgdata="$pgdir/data"; pgport=$(free_port)
[ "$(id -u)" = 0 ] && chown postgres "$pgdir"
run_pg "/usr/lib/postgresql/15/bin/initdb -D $pgdata -U hangar -A trust >/dev/null"
run_pg "taskset -c 0 /usr/lib/postgresql/15/bin/pg_ctl -D $pgdata -l $pgdir/log -o '-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on -c shared_buffers=512MB' -w start >/dev/null"
psql_() { psql -h 127.0.0.1 -p "$pgport" -U hangar -d postgres -qAt "$@"; }
psql_ -c "CREATE TABLE events(transaction_id text NOT NULL, source text NOT NULL, code text NOT NULL,
  subject text NOT NULL, ts timestamptz NOT NULL, properties jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE(source, transaction_id));
  CREATE INDEX events_subject ON events(subject, code, ts);"
cat > "$work/insert.sql" <<'SQL'
\set r random(1, 1000000000000)
INSERT INTO events(transaction_id, source, code, subject, ts, properties)
SELECT :r || '-' || g, 'bench', 'tokens', 'cust-' || ((:r + g) % 1000 * 7919 % 1000),
       timestamptz '2026-11-01' + ((:r + g) % 2592000) * interval '1 second',
       jsonb_build_object('tokens', (:r + g) % 100, 'model', 'm' || ((:r + g) % 4))
FROM generate_series(1, 100) g ON CONFLICT DO NOTHING;
SQL
t0=$(pg_ticks)
out=$(taskset -c 1 pgbench -n -h 127.0.0.1 -p "$pgport" -U hangar -c16 -j1 -T10 -f "$work/insert.sql" postgres 2>&1)
t1=$(pg_ticks)
tps=$(echo "$out" | awk -F'= ' '/^tps/ {split($2,a," "); print a[1]}')
txs=$(echo "$out" | awk '/number of transactions actually processed/ {print $NF}' | cut -d/ -f1)
failed=$(echo "$out" | awk '/number of failed transactions/ {print $5}')
printf '| PostgreSQL 15 ingestion (INSERT of 100 rows, 16 connections) | %.0f | %.2f | | %s ms avg | good=%s failed=%s |\n' \
    "$(echo "$tps * 100" | bc -l)" "$(echo "($t1 - $t0) * 10000 / ($txs * 100)" | bc -l)" \
    "$(echo "$out" | awk '/latency average/ {print $4}')" "$txs" "${failed:-0}"
# The same number of events (not measured), then the same query.
have_pg=$(psql_ -c "SELECT count(*) FROM events")
psql_ -c "INSERT INTO events(transaction_id, source, code, subject, ts, properties)
  SELECT 'bulk-' || g, 'bench', 'tokens', 'cust-' || (g * 7919 % 1000),
         timestamptz '2026-11-01' + (g * 37 % 2592000) * interval '1 second',
         jsonb_build_object('tokens', g % 100, 'model', 'm' || (g % 4))
  FROM generate_series(1::bigint, $((events - have_pg))) g; ANALYZE events;"
cat > "$work/query.sql" <<'SQL'
SELECT date_trunc('day', ts AT TIME ZONE 'UTC') AS day, sum((properties->>'tokens')::numeric)
FROM events WHERE subject = 'cust-42' AND code = 'tokens'
  AND ts >= '2026-11-01T00:00:00Z' AND ts < '2026-12-01T00:00:00Z' GROUP BY 1 ORDER BY 1;
SQL
rows_pg=$(psql_ -f "$work/query.sql" | wc -l)
t0=$(pg_ticks)
(cd "$work" && taskset -c 1 pgbench -n -h 127.0.0.1 -p "$pgport" -U hangar -c4 -j1 -T10 -l -f "$work/query.sql" postgres >"$work/pgq.out" 2>&1)
t1=$(pg_ticks)
txs=$(awk '/number of transactions actually processed/ {print $NF}' "$work/pgq.out" | cut -d/ -f1)
cat "$work"/pgbench_log.* | awk '{print $3}' | sort -n > "$work/lat"
n=$(wc -l < "$work/lat")
p50=$(sed -n "$(( (n + 1) / 2 ))p" "$work/lat"); p99=$(sed -n "$(( (n * 99 + 99) / 100 ))p" "$work/lat")
printf '| PostgreSQL 15 query: the same, over %s rows (%s rows) | %s q/s | %.0f µs/query | %.2fms | %.2fms | failed=%s |\n' \
    "$(psql_ -c 'SELECT count(*) FROM events')" "$rows_pg" \
    "$(awk -F'= ' '/^tps/ {split($2,a," "); print a[1]}' "$work/pgq.out")" "$(echo "($t1 - $t0) * 10000 / $txs" | bc -l)" \
    "$(echo "$p50 / 1000" | bc -l)" "$(echo "$p99 / 1000" | bc -l)" \
    "$(awk '/number of failed transactions/ {print $5}' "$work/pgq.out")"
echo
echo "Hangar counted $total tokens of $have events; usage.db $du_h; PostgreSQL table $(psql_ -c "SELECT pg_size_pretty(pg_total_relation_size('events'))")."
