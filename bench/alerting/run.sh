#!/usr/bin/env bash
# bench/alerting, three parts, servers on core 0 and the driver on core 1:
# 1. Rule evaluation: the same 1,000 rules (each over ten instances' series: thresholds, rates,
#    sums, histogram quantiles) over the same 100,000 series (bench/metrics' synthetic hour,
#    remote-written to both) in Hangar and in Debian's Prometheus 2.42, both every 15 s. Reported:
#    the last pass, and server CPU per pass over a quiet window; the alerts firing must agree.
# 2. Notifications: every firing alert routed to its own group and a webhook: deliveries a
#    second, end to end (rule → dispatcher → notifier → HTTP), each body checked.
# 3. The on-call loop at default intervals (probe 10 s, rules 10 s, group_wait 10 s) on real
#    processes: seconds from an OOM kill to the page, the email and the runbook's resize.
# Usage: bench/alerting/run.sh [hangar] [alerting_bench] [metrics_bench]   (make bench)
set -euo pipefail
bin=$(realpath "${1:-build/src/hangar}")
driver=$(realpath "${2:-build/bench/alerting_bench}")
ingest=$(realpath "${3:-build/bench/metrics_bench}")
window=${WINDOW:-60}
runs=${RUNS:-3}
work=$(mktemp -d /tmp/hangar-alerting-bench-XXXXXX)
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
if [ "$(nproc)" -lt 2 ]; then echo "bench: needs 2 cores (servers and driver apart)" >&2; exit 1; fi
command -v prometheus >/dev/null || { echo "bench: prometheus is missing (scripts/setup installs it)" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { for _ in $(seq 1 300); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "bench: $1 never answered" >&2; exit 1; }

hport=$(free_port)
taskset -c 0 "$bin" serve --listen "127.0.0.1:$hport" --data-dir "$work/hangar" --log-level warn --tenant-rate 0 --webhook-allow 127.0.0.1 \
    --provisioner simulated --rule-interval 15s --metrics-max-series 200000 >"$work/hangar.log" 2>&1 &
hpid=$!; pids="$pids $hpid"
"$driver" rules-yaml >"$work/rules.yml"
pport=$(free_port)
mkdir -p "$work/prom"
printf 'global:\n  scrape_interval: 15s\n  evaluation_interval: 15s\nrule_files: [%s]\n' "$work/rules.yml" >"$work/prom.yml"
taskset -c 0 prometheus --config.file="$work/prom.yml" --storage.tsdb.path="$work/prom" \
    --web.listen-address="127.0.0.1:$pport" --web.enable-remote-write-receiver --log.level=warn >"$work/prom.log" 2>&1 &
ppid_=$!; pids="$pids $ppid_"
wait_ready "http://127.0.0.1:$hport/readyz"; wait_ready "http://127.0.0.1:$pport/-/ready"
token=$(cat "$work/hangar/admin-token")
tenant=$(taskset -c 1 "$driver" setup "$hport" "$token")
# The hour ends five minutes from now, so its last samples are the ones instant queries see
# while the rules run (a rule looks back five minutes, as PromQL does).
start_ms=$(( ($(date +%s) / 60) * 60 * 1000 - 55 * 60 * 1000 ))

echo "# bench/alerting on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); servers on core 0, driver on core 1"
echo
echo "## Rule evaluation: 1,000 rules over 100,000 series, every 15 s"
echo
taskset -c 1 "$ingest" ingest "$hport" "$hpid" 10000 4 "$start_ms" "$token" "$tenant" >/dev/null || { tail -20 "$work/hangar.log" >&2; exit 1; }
taskset -c 1 "$ingest" ingest "$pport" "$ppid_" 10000 4 "$start_ms" - - >/dev/null || { tail -20 "$work/prom.log" >&2; exit 1; }
taskset -c 1 "$driver" rules "$hport" "$token" "$tenant"
echo "| server | last pass ms | passes in ${window} s | server CPU ms per pass | alerts firing |"
echo "|---|---|---|---|---|"
taskset -c 1 "$driver" eval "$hport" "$hpid" "$pport" "$ppid_" "$token" "$tenant" "$window" || { tail -20 "$work/hangar.log" >&2; exit 1; }
echo
echo "## Notifications: each firing alert its own group, to a webhook"
echo
echo "| alerts | notifications | valid Slack JSON | s from routing to the last | notifications/s |"
echo "|---|---|---|---|---|"
taskset -c 1 "$driver" notify "$hport" "$token" "$tenant" || { tail -20 "$work/hangar.log" >&2; exit 1; }
kill $hpid $ppid_; wait $hpid $ppid_ 2>/dev/null || true; pids=""

echo
echo "## The on-call loop at default intervals (process instances, 64 MiB, leaking 150 MiB)"
echo
oport=$(free_port)
sport=$(free_port)
taskset -c 0 "$bin" serve --listen "127.0.0.1:$oport" --data-dir "$work/oom" --log-level warn --webhook-allow 127.0.0.1 --smtp-url "smtp://127.0.0.1:$sport" \
    >"$work/oom.log" 2>&1 &
opid=$!; pids="$opid"
wait_ready "http://127.0.0.1:$oport/readyz"
otoken=$(cat "$work/oom/admin-token")
taskset -c 1 "$driver" oom "$oport" "$otoken" "$runs" "$sport" || { tail -20 "$work/oom.log" >&2; exit 1; }
