#!/usr/bin/env bash
# bench/marketplace/run.sh HANGAR: the marketplace's listing (GET /v1/apps, 500 apps) and a 5 MB
# app's download, each beside nginx serving the same bytes from disk, in the same run. Hangar
# (its --marketplace-listen) and nginx (one worker) on core 0, wrk on core 1 (-t1 -c64 for
# listings, -c16 for downloads), every response's status and length verified. Downloads use a
# fresh one-use marketplace:download token per request, fetched beforehand. Needs python3 (to
# build the packages and fetch the tokens), nginx and wrk.
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/hangar-bench-marketplace-XXXXXX)
chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
run_wrk() { # NAME PID CONNECTIONS ENV...
    local name=$1 pid=$2 conns=$3
    shift 3
    local t0 t1 out
    t0=$(ticks "$pid")
    out=$(env "$@" taskset -c 1 wrk -t1 -c"$conns" -d10s --latency -s "$here/../api/verify.lua" "$URL")
    t1=$(ticks "$pid")
    local rps p50 p99 verified reqs mbs
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    mbs=$(echo "$out" | awk '/Transfer\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    verified=$(echo "$out" | sed -n 's/^VERIFIED //p')
    reqs=$(echo "$out" | awk '/requests in/ {print $1}')
    local cpu_us=$(( (t1 - t0) * 10000 ))
    printf '| %s | %s | %s | %s | %s | %.1f | %s |\n' "$name" "$rps" "$mbs" "$p50" "$p99" \
        "$(echo "$cpu_us / ($reqs + 0.000001)" | bc -l)" "$verified"
}

# ---- Hangar with 500 apps, one of them 5 MB
hport=$(free_port); mport=$(free_port)
taskset -c 0 "$bin" serve --listen "127.0.0.1:$hport" --marketplace-listen "127.0.0.1:$mport" \
    --data-dir "$work/hangar" --log-level warn --tenant-rate 0 --public-rate 0 >"$work/hangar.log" 2>&1 &
hpid=$!; pids+=("$hpid")
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$hport/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
admin=$(cat "$work/hangar/admin-token")
python3 - "$hport" "$admin" <<'PY'
import http.client, io, json, os, random, sys, uuid, zipfile
port, admin = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port)
rnd = random.Random(7)
for i in range(500):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("app.json", json.dumps({
            "id": str(uuid.UUID(int=rnd.getrandbits(128))), "version": "1.0.%d" % i,
            "requiredApiVersion": "^1.19.0", "name": "Bench App %d" % i, "nameSlug": "bench-app-%d" % i,
            "classFile": "App.js", "description": "An app of the benchmark, number %d." % i,
            "author": {"name": "Bench", "homepage": "https://bench.example", "support": "https://bench.example"},
            "permissions": [{"name": "message.read"}], "implements": []}))
        z.writestr("App.js", "exports.App = class {};")
        if i == 0:
            z.writestr("assets/blob.bin", os.urandom(5 * 1024 * 1024), zipfile.ZIP_STORED)
    c.request("POST", "/v1/apps:publish", buf.getvalue(),
              {"Authorization": "Bearer " + admin, "Content-Type": "application/zip"})
    r = c.getresponse(); body = r.read()
    if r.status != 201:
        sys.exit("publish failed: %d %s" % (r.status, body[:200]))
PY
# A workspace whose download tokens the benchmark spends.
tenant=$(curl -fsS -X POST "http://127.0.0.1:$hport/v1/tenants" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' -d '{"metadata":{"name":"bench"}}' | sed -n 's/.*"id":"\(ten_[a-z0-9]*\)".*/\1/p' | head -1)
wks=$(curl -fsS -X POST "http://127.0.0.1:$hport/v1/workspaces?tenant=$tenant" -H "Authorization: Bearer $admin" \
    -H 'Content-Type: application/json' -d "{\"metadata\":{\"name\":\"bench\",\"tenant\":\"$tenant\"},\"spec\":{}}" | sed -n 's/.*"id":"\(wks_[a-z0-9]*\)".*/\1/p' | head -1)
reg=$(curl -fsS -X POST "http://127.0.0.1:$hport/v1/workspaces/$wks:registration-token" -H "Authorization: Bearer $admin" | sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
secret=$(curl -fsS -X POST "http://127.0.0.1:$hport/api/oauth/clients" -H "Authorization: Bearer $reg" \
    -H 'Content-Type: application/json' -d '{"client_name":"bench"}' | sed -n 's/.*"client_secret":"\([^"]*\)".*/\1/p')
python3 - "$hport" "$wks" "$secret" "$work/tokens" <<'PY'
import http.client, json, sys, urllib.parse
port, wks, secret, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", port)
body = urllib.parse.urlencode({"client_id": wks, "client_secret": secret, "scope": "marketplace:download",
                               "grant_type": "client_credentials"})
with open(out, "w") as f:
    for _ in range(6000):
        c.request("POST", "/api/oauth/token", body, {"Content-Type": "application/x-www-form-urlencoded"})
        f.write(json.loads(c.getresponse().read())["access_token"] + "\n")
PY
engine='X-Apps-Engine-Version: 1.45.0'
mkdir -p "$work/www/v1" "$work/www/v2"
curl -fsS "http://127.0.0.1:$mport/v1/apps" -H "$engine" >"$work/www/v1/apps"
listing_len=$(stat -c %s "$work/www/v1/apps")
big=$(python3 -c 'import json,sys; a=[x for x in json.load(open(sys.argv[1])) if x["latest"]["nameSlug"]=="bench-app-0"][0]; print(a["appId"])' "$work/www/v1/apps")
curl -fsS "http://127.0.0.1:$mport/v2/apps/$big/download/1.0.0?token=$(head -1 "$work/tokens")" -o "$work/www/v2/app.zip"
sed -i 1d "$work/tokens"
zip_len=$(stat -c %s "$work/www/v2/app.zip")

echo "# bench/marketplace on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); 500 apps, a ${zip_len}-byte package; server on core 0, wrk on core 1"
echo
echo "| run | requests/s | transfer/s | p50 | p99 | server CPU µs/op | verified |"
echo "|---|---|---|---|---|---|---|"
URL="http://127.0.0.1:$mport/v1/apps" run_wrk "hangar GET /v1/apps (500 listings, ${listing_len} bytes)" "$hpid" 64 \
    TARGET=/v1/apps EXTRA_HEADER="$engine" EXPECT_STATUS=200 EXPECT_LEN="$listing_len"
URL="http://127.0.0.1:$mport/v2/apps/$big/download/1.0.0" run_wrk "hangar download (one-use token each)" "$hpid" 16 \
    TARGET="/v2/apps/$big/download/1.0.0" TOKENS_FILE="$work/tokens" EXPECT_STATUS=200 EXPECT_LEN="$zip_len"

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
    types { application/zip zip; }
    keepalive_requests 1000000;
    sendfile on;
    server { listen 127.0.0.1:$nport; root $work/www; }
}
NGX
taskset -c 0 nginx -c "$work/nginx.conf" -p "$work" &
npid=$!; pids+=("$npid")
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$nport/v1/apps" >/dev/null 2>&1 && break; sleep 0.1; done
worker=$(pgrep -P "$npid" | head -1)
URL="http://127.0.0.1:$nport/v1/apps" run_wrk "nginx, the same listing from disk" "${worker:-$npid}" 64 \
    TARGET=/v1/apps EXPECT_STATUS=200 EXPECT_LEN="$listing_len"
URL="http://127.0.0.1:$nport/v2/app.zip" run_wrk "nginx, the same zip from disk (sendfile)" "${worker:-$npid}" 16 \
    TARGET=/v2/app.zip EXPECT_STATUS=200 EXPECT_LEN="$zip_len"
