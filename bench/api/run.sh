#!/usr/bin/env bash
# bench/api: GET /v1/tenants/{id} with a token against nginx serving the same JSON bytes, and
# durable creates per second on SQLite and PostgreSQL. Server on core 0, wrk on core 1.
# Usage: bench/api/run.sh [path/to/hangar]   (make bench)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-build/src/hangar}")
duration=${DURATION:-10}
conns=${CONNS:-64}
work=$(mktemp -d /tmp/hangar-bench-XXXXXX)
chmod 755 "$work"  # nginx workers and the postgres user read below it
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    if [ -n "${pgdata:-}" ]; then run_pg "/usr/lib/postgresql/15/bin/pg_ctl -D $pgdata -m fast stop" >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
if [ "$(nproc)" -lt 2 ]; then echo "bench: needs 2 cores (server and load generator apart)" >&2; exit 1; fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# run_wrk NAME PID -- env...: prints a result row: name, req/s, p50, p99, CPU µs/op, verified
run_wrk() {
    local name=$1 pid=$2
    shift 2
    local before after out rps reqs p50 p99 ver
    before=$(cpu_ticks "$pid")
    out=$(env "$@" taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" --latency -s "$here/verify.lua" "$URL" 2>&1)
    after=$(cpu_ticks "$pid")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    reqs=$(echo "$out" | awk '/requests in/ {print $1}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    ver=$(echo "$out" | awk '/VERIFIED/ {print $2" "$3}')
    local cpu_us
    cpu_us=$(awk -v t=$((after - before)) -v hz="$hz" -v n="$reqs" 'BEGIN { printf "%.1f", t / hz * 1e6 / n }')
    printf '| %s | %s | %s | %s | %s | %s |\n' "$name" "$rps" "$p50" "$p99" "$cpu_us" "$ver"
    case "$ver" in *"bad=0"*) ;; *) echo "bench: $name had failed responses" >&2; echo "$out" >&2 ;; esac
}

start_hangar() { # DATA PORT [extra flags]: starts on core 0, echoes its pid
    local data=$1 port=$2
    shift 2
    taskset -c 0 "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" --log-level warn --tenant-rate 0 "$@" >"$data.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
    echo "$pid"
}

echo "# bench/api on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); wrk -t1 -c$conns -d${duration}s; server on core 0, wrk on core 1"
echo
echo "| run | requests/s | p50 | p99 | server CPU µs/op | verified |"
echo "|---|---|---|---|---|---|"

# ---- reads: Hangar
hport=$(free_port)
hpid=$(start_hangar "$work/hangar" "$hport")
pids+=("$hpid")
admin=$(cat "$work/hangar/admin-token")
tenant=$(curl -fsS -X POST "http://127.0.0.1:$hport/v1/tenants" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' -d '{"metadata":{"name":"bench","labels":{"tier":"gold"}},"spec":{"display_name":"Bench Corp","contact_email":"ops@bench.example"}}' |
    sed -n 's/.*"id":"\(ten_[a-z0-9]*\)".*/\1/p' | head -1)
viewer=$(curl -fsS -X POST "http://127.0.0.1:$hport/v1/tokens" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' -d "{\"tenant\":\"$tenant\",\"role\":\"viewer\"}" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
mkdir -p "$work/www/v1/tenants"
curl -fsS "http://127.0.0.1:$hport/v1/tenants/$tenant" -H "Authorization: Bearer $viewer" >"$work/www/v1/tenants/$tenant"
len=$(stat -c %s "$work/www/v1/tenants/$tenant")
URL="http://127.0.0.1:$hport/v1/tenants/$tenant" run_wrk "hangar GET /v1/tenants/{id} (viewer token, SQLite)" "$hpid" \
    TOKEN="$viewer" TARGET="/v1/tenants/$tenant" EXPECT_STATUS=200 EXPECT_LEN="$len"

# ---- reads: nginx, the same bytes as a static file, one worker on core 0, no access log
nport=$(free_port)
cat >"$work/nginx.conf" <<NGX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/json;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$nport; root $work/www; }
}
NGX
taskset -c 0 nginx -c "$work/nginx.conf" -p "$work" &
npid=$!
pids+=("$npid")
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$nport/v1/tenants/$tenant" >/dev/null 2>&1 && break; sleep 0.1; done
worker=$(pgrep -P "$npid" | head -1)
URL="http://127.0.0.1:$nport/v1/tenants/$tenant" run_wrk "nginx static file, same bytes" "${worker:-$npid}" \
    TARGET="/v1/tenants/$tenant" EXPECT_STATUS=200 EXPECT_LEN="$len"

# ---- durable creates on SQLite (WAL, synchronous=FULL: fsync per group commit)
URL="http://127.0.0.1:$hport/v1/tenants" run_wrk "hangar POST /v1/tenants, SQLite (durable)" "$hpid" \
    TOKEN="$admin" METHOD=POST TARGET=/v1/tenants EXPECT_STATUS=201 NAME_PREFIX=sq
kill "$hpid"

# ---- durable creates on PostgreSQL 15 (fsync=on, synchronous_commit=on), a throwaway cluster
pgdir="$work/pg"
mkdir -p "$pgdir"
run_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- sh -c "$1"; else sh -c "$1"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$pgdir"
pgdata="$pgdir/data"
pgport=$(free_port)
run_pg "/usr/lib/postgresql/15/bin/initdb -D $pgdata -U hangar -A trust >/dev/null"
run_pg "taskset -c 0 /usr/lib/postgresql/15/bin/pg_ctl -D $pgdata -l $pgdir/log -o '-p $pgport -k $pgdir -c listen_addresses=127.0.0.1 -c fsync=on -c synchronous_commit=on' -w start >/dev/null"
pport=$(free_port)
ppid=$(start_hangar "$work/hangar-pg" "$pport" --store "postgres://hangar@127.0.0.1:$pgport/postgres")
pids+=("$ppid")
padmin=$(cat "$work/hangar-pg/admin-token")
URL="http://127.0.0.1:$pport/v1/tenants" run_wrk "hangar POST /v1/tenants, PostgreSQL (durable; PG on core 0 too)" "$ppid" \
    TOKEN="$padmin" METHOD=POST TARGET=/v1/tenants EXPECT_STATUS=201 NAME_PREFIX=pg

# ---- reads on PostgreSQL: no document cache (several replicas may write), the full path
ptenant=$(curl -fsS -X POST "http://127.0.0.1:$pport/v1/tenants" -H "Authorization: Bearer $padmin" \
    -H 'Content-Type: application/json' -d '{"metadata":{"name":"bench-read"}}' | sed -n 's/.*"id":"\(ten_[a-z0-9]*\)".*/\1/p' | head -1)
plen=$(curl -fsS "http://127.0.0.1:$pport/v1/tenants/$ptenant" -H "Authorization: Bearer $padmin" | wc -c)
URL="http://127.0.0.1:$pport/v1/tenants/$ptenant" run_wrk "hangar GET /v1/tenants/{id}, PostgreSQL (no cache; PG on core 0 too)" "$ppid" \
    TOKEN="$padmin" TARGET="/v1/tenants/$ptenant" EXPECT_STATUS=200 EXPECT_LEN="$plen"
