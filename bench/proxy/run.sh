#!/usr/bin/env bash
# Proxy benchmark (make bench-proxy): wrk against, in interleaved rounds,
#   (a)  nginx with one worker proxying to the backend (keep-alive upstream),
#   (b)  a bare keep-alive undici Node proxy (bench/proxy/bare-proxy.ts),
#   (c)  tenantgate proxy with 1,000 HTTPRoutes (--from-files), no policies,
#   (d)  the same with an allow-cidrs AccessPolicy and a Distinct-header RateLimitPolicy on the route
#        under load,
#   (c2) and (d2): (c) and (d) with --workers 2,
# all in front of the same backend (nginx, one worker, `return 200`). wrk and the backend are pinned to
# one core (LOAD_CPU) and the proxy under test to the other (PROXY_CPU) with taskset; the 2-worker cases
# get both cores (on a 2-core machine they then share them with wrk and the backend, which caps what two
# workers can show). Per case and round: req/s, p50, p99 and CPU microseconds per request (the proxy's
# processes' CPU time over the measured run ÷ requests). Any wrk socket error, timeout or non-2xx answer
# fails the run. Then the route-lookup microbenchmark and the memory per process at 10,000 routes with 1
# and 2 workers. Usage: bench/proxy/run.sh   (env: DURATION=8s WARMUP=2s ROUNDS=3 CONNECTIONS=32
# ROUTES=1000 LOOKUP_ROUTES=10000 LOAD_CPU=0 PROXY_CPU=1)
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
DURATION="${DURATION:-8s}"
WARMUP="${WARMUP:-2s}"
ROUNDS="${ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-32}"
ROUTES="${ROUTES:-1000}"
LOOKUP_ROUTES="${LOOKUP_ROUTES:-10000}"
LOAD_CPU="${LOAD_CPU:-0}"
PROXY_CPU="${PROXY_CPU:-1}"
BACKEND_PORT=18900
HOST=svc-50.bench.example.com
URL_PATH=/app-3/items
ROUTE_UNDER_LOAD=route-503 # hostOf/prefixOf in routes.ts: svc-50 + /app-3

for tool in nginx wrk taskset curl; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "bench: $tool not found (Debian/Ubuntu: apt-get install -y nginx wrk util-linux curl)" >&2
    exit 1
  }
done
require_node
[ -f "$ROOT/dist/policies/bundle.tar.gz" ] || { echo "bench: run 'make policies' first (case d)" >&2; exit 1; }
CLK_TCK="$(getconf CLK_TCK)"

bench_workdir /tmp/tg-bench.XXXXXX

# CPU ticks (user + system) of a process and its children (nginx's worker, tenantgate's workers).
cpu_ticks() { # pid
  local total=0 p
  for p in "$1" $(ps -o pid= --ppid "$1" 2>/dev/null); do
    [ -r "/proc/$p/stat" ] || continue
    # fields 14 and 15 after the command (which may contain spaces): strip through ") "
    total=$((total + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
  done
  echo "$total"
}

# ---- the backend, pinned with wrk ---------------------------------------------------------------------
nginx_conf backend "server { listen 127.0.0.1:$BACKEND_PORT; location / { default_type text/plain; return 200 \"ok\n\"; } }"
taskset -c "$LOAD_CPU" nginx -p "$WORK" -c "$WORK/backend.conf" & PIDS+=($!)
wait_port 127.0.0.1 $BACKEND_PORT

# ---- the proxies, started once ------------------------------------------------------------------------
declare -A PORT PID
nginx_conf proxy "upstream backend { server 127.0.0.1:$BACKEND_PORT; keepalive 64; }
  server { listen 127.0.0.1:18901;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Host \$host; } }"
taskset -c "$PROXY_CPU" nginx -p "$WORK" -c "$WORK/proxy.conf" & PID[a]=$!; PIDS+=(${PID[a]}); PORT[a]=18901
taskset -c "$PROXY_CPU" "$NODE" "$ROOT/bench/proxy/bare-proxy.ts" 18902 $BACKEND_PORT & PID[b]=$!; PIDS+=(${PID[b]}); PORT[b]=18902
wait_port 127.0.0.1 18901
wait_port 127.0.0.1 18902

start_tenantgate() { # case port admin-port cpus workers policies(yes|no)
  local dir="$WORK/routes-$1"
  "$NODE" "$ROOT/bench/proxy/write-routes.ts" "$dir" "$ROUTES" "$2" $BACKEND_PORT
  [ "$6" = yes ] && "$NODE" "$ROOT/bench/policies/write-policies.ts" "$dir" access+local "$ROUTE_UNDER_LOAD"
  taskset -c "$4" "$NODE" "$ROOT/cmd/tenantgate.ts" proxy --from-files "$dir" --admin-address "127.0.0.1:$3" \
    --access-log off --workers "$5" >"$WORK/tenantgate-$1.log" 2>&1 & PID[$1]=$!; PIDS+=(${PID[$1]}); PORT[$1]=$2
  wait_ready "127.0.0.1:$3"
  if [ "$6" = yes ]; then # the policies must be in force: the limit's headers come back
    curl -s -D - -o /dev/null -H "Host: $HOST" -H "X-Client: probe" "http://127.0.0.1:$2$URL_PATH" \
      | grep -qi '^x-ratelimit-limit: 100000000' || { echo "bench: ($1) has no rate limit in force" >&2; exit 1; }
  fi
}
echo "==> starting the tenantgate proxies ($ROUTES HTTPRoutes each)" >&2
start_tenantgate c 18903 18904 "$PROXY_CPU" 1 no
start_tenantgate d 18905 18906 "$PROXY_CPU" 1 yes
start_tenantgate c2 18907 18908 "$LOAD_CPU,$PROXY_CPU" 2 no
start_tenantgate d2 18909 18910 "$LOAD_CPU,$PROXY_CPU" 2 yes

CASES=(a b c d c2 d2)
measure() { # case round
  local out="$WORK/wrk-$1-$2.txt" url="http://127.0.0.1:${PORT[$1]}$URL_PATH"
  local hdr=(-H "Host: $HOST" -H "X-Client: bench-client-1")
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "${hdr[@]}" "$url" >/dev/null
  local before after
  before="$(cpu_ticks "${PID[$1]}")"
  taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "${hdr[@]}" "$url" >"$out"
  after="$(cpu_ticks "${PID[$1]}")"
  echo "cpu_ticks: $((after - before)) clk_tck: $CLK_TCK" >>"$out"
  if grep -qE 'Socket errors|Non-2xx' "$out"; then
    echo "bench: ($1) round $2: wrk saw socket errors, timeouts or non-2xx answers:" >&2
    cat "$out" >&2
    exit 1
  fi
}
for round in $(seq 1 "$ROUNDS"); do
  echo "==> round $round/$ROUNDS: ${CASES[*]}" >&2
  for c in "${CASES[@]}"; do measure "$c" "$round"; done
done
for c in "${CASES[@]}"; do stop "${PID[$c]}"; done

# ---- route lookup, and memory per process at $LOOKUP_ROUTES routes ---------------------------------------
echo "==> route lookup microbenchmark, $LOOKUP_ROUTES HTTPRoutes" >&2
LOOKUP_JSON="$("$NODE" "$ROOT/bench/proxy/lookup.ts" "$LOOKUP_ROUTES")"
echo "{}" >"$WORK/rss.json"
for w in 1 2; do
  echo "==> memory with $LOOKUP_ROUTES HTTPRoutes, --workers $w" >&2
  dir="$WORK/routes-rss-$w"
  "$NODE" "$ROOT/bench/proxy/write-routes.ts" "$dir" "$LOOKUP_ROUTES" 18911 $BACKEND_PORT
  "$NODE" "$ROOT/cmd/tenantgate.ts" proxy --from-files "$dir" --admin-address 127.0.0.1:18912 --access-log off \
    --workers "$w" >"$WORK/tenantgate-rss-$w.log" 2>&1 & RSS_PID=$!; PIDS+=($RSS_PID)
  wait_ready 127.0.0.1:18912
  # a little traffic so the steady state (pools, caches, JIT) is part of the figure
  wrk -t1 -c8 -d2s -H "Host: svc-7.bench.example.com" "http://127.0.0.1:18911/app-3/x" >/dev/null
  sleep 1
  primary="$(awk '/^VmRSS/ {print $2}' "/proc/$RSS_PID/status")"
  workers="$(for p in $(ps -o pid= --ppid $RSS_PID); do awk '/^VmRSS/ {print $2}' "/proc/$p/status"; done | paste -sd, -)"
  "$NODE" -e "const fs=require('fs');const f=process.argv[1];const j=JSON.parse(fs.readFileSync(f));j['$w']={primaryKb:$primary,workersKb:[${workers}]};fs.writeFileSync(f,JSON.stringify(j))" "$WORK/rss.json"
  stop $RSS_PID
done

"$NODE" "$ROOT/bench/proxy/report.ts" "$WORK" "$ROUNDS" "$ROUTES" "$LOOKUP_ROUTES" "$CONNECTIONS" "$DURATION" \
  "$LOOKUP_JSON" "$(cat "$WORK/rss.json")"
