#!/usr/bin/env bash
# bench/collector: statistics documents (about 30 KB each) ingested a second by POST /collector,
# new and resent. Hangar on core 0, the driver on core 1. No peer is named for this one.
# Usage: bench/collector/run.sh [hangar] [collector_bench]   (make bench)
set -euo pipefail
bin=$(realpath "${1:-build/src/hangar}")
driver=$(realpath "${2:-build/bench/collector_bench}")
n=${N:-20000}
conc=${CONCURRENCY:-32}
if [ "$(nproc)" -lt 2 ]; then echo "bench: needs 2 cores" >&2; exit 1; fi
work=$(mktemp -d /tmp/hangar-collector-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "# bench/collector on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); Hangar on core 0, driver on core 1"
echo
taskset -c 1 "$driver" "$bin" "$work" "$n" "$conc"
