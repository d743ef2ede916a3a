#!/usr/bin/env bash
# bench/metrics: the same synthetic hour (10,000 series, a sample every 15 s: 2.4 M samples)
# remote-written to Hangar and to Debian's Prometheus 2.42 in the same run, then the same
# range queries against both. Servers on core 0 (one at a time under load), the driver on
# core 1. Neither fsyncs per request (both write(2) their WAL before answering).
# Usage: bench/metrics/run.sh [hangar] [metrics_bench]   (make bench)
set -euo pipefail
bin=$(realpath "${1:-build/src/hangar}")
driver=$(realpath "${2:-build/bench/metrics_bench}")
instances=${INSTANCES:-1000}   # × 10 series
conns=${CONNS:-4}
iterations=${ITERATIONS:-20}
work=$(mktemp -d /tmp/hangar-metrics-bench-XXXXXX)
hpid=""; ppid_=""
cleanup() {
    for p in $hpid $ppid_; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
if [ "$(nproc)" -lt 2 ]; then echo "bench: needs 2 cores (servers and driver apart)" >&2; exit 1; fi
command -v prometheus >/dev/null || { echo "bench: prometheus is missing (scripts/setup installs it)" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
hwm_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

hport=$(free_port)
taskset -c 0 "$bin" serve --listen "127.0.0.1:$hport" --data-dir "$work/hangar" --log-level warn --tenant-rate 0 \
    --provisioner simulated >"$work/hangar.log" 2>&1 &
hpid=$!
pport=$(free_port)
mkdir -p "$work/prom"
printf 'global:\n  scrape_interval: 15s\n' >"$work/prom.yml"
taskset -c 0 prometheus --config.file="$work/prom.yml" --storage.tsdb.path="$work/prom" \
    --web.listen-address="127.0.0.1:$pport" --web.enable-remote-write-receiver --log.level=warn >"$work/prom.log" 2>&1 &
ppid_=$!
for _ in $(seq 1 300); do
    curl -fsS "http://127.0.0.1:$hport/readyz" >/dev/null 2>&1 && curl -fsS "http://127.0.0.1:$pport/-/ready" >/dev/null 2>&1 && break
    sleep 0.1
done
token=$(cat "$work/hangar/admin-token")
start_ms=$(( ($(date +%s) / 60) * 60 * 1000 - 61 * 60 * 1000 ))
series=$((instances * 10))

echo "# bench/metrics on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); $series series × 240 samples (one hour at 15 s), $conns remote-write connections; servers on core 0, driver on core 1"
echo
echo "| server | samples | requests | wall s | samples/s | server CPU s | CPU ns/sample | RSS MiB | peak RSS MiB | disk bytes/sample |"
echo "|---|---|---|---|---|---|---|---|---|---|"
row=$(taskset -c 1 "$driver" ingest "$hport" "$hpid" "$instances" "$conns" "$start_ms" "$token" bench) || { tail -20 "$work/hangar.log" >&2; exit 1; }
sleep 1
bytes=$(du -sb "$work/hangar/metrics" | cut -f1)
echo "| Hangar | $row | $(rss_mib $hpid) | $(hwm_mib $hpid) | $(python3 -c "print(f'{$bytes/($series*240):.2f}')") |"
row=$(taskset -c 1 "$driver" ingest "$pport" "$ppid_" "$instances" "$conns" "$start_ms" - -) || { tail -20 "$work/prom.log" >&2; exit 1; }
sleep 1
bytes=$(du -sb "$work/prom" | cut -f1)
echo "| Prometheus 2.42 | $row | $(rss_mib $ppid_) | $(hwm_mib $ppid_) | $(python3 -c "print(f'{$bytes/($series*240):.2f}')") |"
sleep 10  # let both settle (Prometheus collects garbage after a burst) before timing queries
echo
echo "Range queries over the hour at a 60 s step (61 points per series), median of $iterations:"
echo
echo "| query | series | Hangar ms | Prometheus ms | Hangar CPU ms | Prometheus CPU ms | same answer |"
echo "|---|---|---|---|---|---|---|"
taskset -c 1 "$driver" query "$hport" "$hpid" "$pport" "$ppid_" "$start_ms" "$iterations" "$token" bench | sed 's/^/| /; s/$/ |/'
