#!/usr/bin/env bash
# bench/push: notifications a second through Hangar's gateway to the local APNs fake, the
# latency the gateway adds, and @parse/node-apn sending the same notifications straight to the
# fake as the peer. Hangar and the peer on core 0; the driver and the fake on core 1.
# Usage: bench/push/run.sh [hangar] [push_bench]   (make bench)
set -euo pipefail
bin=$(realpath "${1:-build/src/hangar}")
driver=$(realpath "${2:-build/bench/push_bench}")
n=${N:-100000}
conc=${CONCURRENCY:-64}
here=$(cd "$(dirname "$0")" && pwd)
if [ "$(nproc)" -lt 2 ]; then echo "bench: needs 2 cores" >&2; exit 1; fi
command -v node >/dev/null && command -v npm >/dev/null || { echo "bench: node and npm are needed for the peer (apt-get install nodejs npm)" >&2; exit 1; }
if [ ! -d "$here/node_modules/@parse/node-apn" ]; then
    (cd "$here" && npm install --no-audit --no-fund --silent >/dev/null)
fi
work=$(mktemp -d /tmp/hangar-push-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "# bench/push on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); Hangar and the peer on core 0, driver and APNs fake on core 1"
echo
taskset -c 1 "$driver" "$bin" "$work" "$n" "$conc" "$here/peer.js"
