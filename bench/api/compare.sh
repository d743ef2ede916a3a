#!/usr/bin/env bash
# bench/api/compare.sh BIN PORT: the GET and durable-create runs of bench/api for one binary, to
# set two builds side by side in the same minute (server on core 0, wrk on core 1, 8 s each).
# Prints wrk's rate and verification, and the server's CPU ticks (1/100 s) for each run.
set -euo pipefail
bin=$1; port=$2; top=$(mktemp -d /tmp/hangar-compare-XXXXXX); d=$top/data
trap 'kill ${hp:-} 2>/dev/null; wait ${hp:-} 2>/dev/null; rm -rf "$top"' EXIT
taskset -c 0 $bin serve --listen 127.0.0.1:$port --data-dir $d --log-level warn --tenant-rate 0 > $d.log 2>&1 &
hp=$!
for i in $(seq 1 100); do curl -fsS http://127.0.0.1:$port/readyz >/dev/null 2>&1 && break; sleep 0.1; done
admin=$(cat $d/admin-token)
tenant=$(curl -fsS -X POST http://127.0.0.1:$port/v1/tenants -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d '{"metadata":{"name":"bench"},"spec":{"display_name":"B"}}' | sed -n 's/.*"id":"\(ten_[a-z0-9]*\)".*/\1/p' | head -1)
viewer=$(curl -fsS -X POST http://127.0.0.1:$port/v1/tokens -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' -d "{\"tenant\":\"$tenant\",\"role\":\"viewer\"}" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
t0=$(awk '{print $14+$15}' /proc/$hp/stat)
TOKEN=$viewer TARGET=/v1/tenants/$tenant EXPECT_STATUS=200 taskset -c 1 wrk -t1 -c64 -d8s -s "$(dirname "$0")/verify.lua" http://127.0.0.1:$port/v1/tenants/$tenant | grep -E "Requests/sec|VERIFIED"
t1=$(awk '{print $14+$15}' /proc/$hp/stat)
TOKEN=$admin METHOD=POST TARGET=/v1/tenants EXPECT_STATUS=201 NAME_PREFIX=p$port taskset -c 1 wrk -t1 -c64 -d8s -s "$(dirname "$0")/verify.lua" http://127.0.0.1:$port/v1/tenants | grep -E "Requests/sec|VERIFIED"
t2=$(awk '{print $14+$15}' /proc/$hp/stat)
echo "cpu ticks get=$((t1-t0)) post=$((t2-t1))"
