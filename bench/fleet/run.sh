#!/usr/bin/env bash
# bench/fleet: with the simulated provisioner, create 10,000 then 100,000 instances through the
# API and time until every one is Running. Hangar on core 0, the driver on core 1; each size
# on a fresh data folder. Usage: bench/fleet/run.sh [hangar] [fleet_bench]   (make bench)
set -euo pipefail
bin=$(realpath "${1:-build/src/hangar}")
driver=$(realpath "${2:-build/bench/fleet_bench}")
sizes=${SIZES:-10000 100000}
conns=${CONNS:-32}
latency=${SIM_LATENCY:-200ms}
per_tenant=${PER_TENANT:-20}  # instances per tenant (quota checks count a tenant's instances)
work=$(mktemp -d /tmp/hangar-fleet-bench-XXXXXX)
pid=""
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
if [ "$(nproc)" -lt 2 ]; then echo "bench: needs 2 cores (server and driver apart)" >&2; exit 1; fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "# bench/fleet on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); simulated provisioner (start latency $latency), SQLite (synchronous=FULL); hangar on core 0, driver on core 1 with $conns connections"
echo
echo "| instances | tenants | create s | creates/s | all Running after s | reconciles | reconciles/s | hangar CPU s | CPU µs/instance | RSS MiB | RSS bytes/instance |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for n in $sizes; do
    data="$work/data-$n"
    mkdir -p "$data"
    port=$(free_port)
    taskset -c 0 "$bin" serve --listen "127.0.0.1:$port" --data-dir "$data" --log-level warn --tenant-rate 0 \
        --provisioner simulated --sim-latency "$latency" >"$data.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
    tenants=$((n / per_tenant))
    taskset -c 1 "$driver" "$port" "$(cat "$data/admin-token")" "$pid" "$n" "$tenants" "$conns" || { tail -20 "$data.log" >&2; exit 1; }
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
    rm -rf "$data"
done
