#!/usr/bin/env bash
# Proxy benchmark, one run: wrk against
#   (a) nginx with one worker proxying to the backend (keep-alive upstream),
#   (b) a bare keep-alive undici Node proxy (bench/proxy/bare-proxy.ts),
#   (c) tenantgate proxy with 1,000 HTTPRoutes loaded (--from-files),
# all in front of the same backend (nginx, one worker, `return 200`), then a route-lookup
# microbenchmark at 10,000 routes and the proxy's RSS with 10,000 routes. Prints req/s, p50, p99 and the
# ratios against the targets. Usage: bench/proxy/run.sh   (env: DURATION=10s CONNECTIONS=32 ROUTES=1000)
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-3s}"
CONNECTIONS="${CONNECTIONS:-32}"
ROUTES="${ROUTES:-1000}"
LOOKUP_ROUTES="${LOOKUP_ROUTES:-10000}"
BACKEND_PORT=18900
NGINX_PORT=18901
BARE_PORT=18902
TG_PORT=18903
TG_ADMIN=127.0.0.1:18904
RSS_PORT=18905
RSS_ADMIN=127.0.0.1:18906

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "==> $1 is missing; installing nginx and wrk with apt-get (needs root)" >&2
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
      echo "bench: $1 not found; install it (Debian/Ubuntu: apt-get install -y nginx wrk) and re-run" >&2
      exit 1
    fi
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx wrk >/dev/null
    command -v "$1" >/dev/null || { echo "bench: could not install $1" >&2; exit 1; }
  fi
}
need nginx
need wrk
NGINX="$(command -v nginx)"
require_node

bench_workdir /tmp/tg-bench.XXXXXX

# ---- the shared backend ---------------------------------------------------------------------------
start_backend $BACKEND_PORT

run_wrk() { # label port host path
  local out="$WORK/wrk-$1.txt"
  wrk_measure "$out" "http://127.0.0.1:$2$4" -H "Host: $3"
  local code
  code="$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $3" "http://127.0.0.1:$2$4")"
  [ "$code" = 200 ] || { echo "bench: $1 answered $code, not 200" >&2; cat "$out" >&2; exit 1; }
  grep -q 'Non-2xx' "$out" && { echo "bench: $1 had non-2xx answers" >&2; cat "$out" >&2; exit 1; }
  echo "$out"
}

# ---- (a) nginx, one worker --------------------------------------------------------------------------
nginx_conf proxy "upstream backend { server 127.0.0.1:$BACKEND_PORT; keepalive 64; }
  server { listen 127.0.0.1:$NGINX_PORT;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; proxy_set_header Host \$host; } }"
"$NGINX" -p "$WORK" -c "$WORK/proxy.conf" & NGINX_PID=$!; PIDS+=($NGINX_PID)
wait_port 127.0.0.1 $NGINX_PORT
echo "==> (a) nginx" >&2
A_OUT="$(run_wrk nginx $NGINX_PORT svc-50.bench.example.com /app-3/items)"
stop $NGINX_PID

# ---- (b) bare undici proxy ------------------------------------------------------------------------
"$NODE" "$ROOT/bench/proxy/bare-proxy.ts" $BARE_PORT $BACKEND_PORT & BARE_PID=$!; PIDS+=($BARE_PID)
wait_port 127.0.0.1 $BARE_PORT
echo "==> (b) bare undici proxy" >&2
B_OUT="$(run_wrk bare $BARE_PORT svc-50.bench.example.com /app-3/items)"
stop $BARE_PID

# ---- (c) tenantgate proxy, $ROUTES routes ------------------------------------------------------------
"$NODE" "$ROOT/bench/proxy/write-routes.ts" "$WORK/routes" "$ROUTES" $TG_PORT $BACKEND_PORT
"$NODE" "$ROOT/cmd/tenantgate.ts" proxy --from-files "$WORK/routes" --admin-address $TG_ADMIN --access-log off \
  >"$WORK/tenantgate.log" 2>&1 & TG_PID=$!; PIDS+=($TG_PID)
wait_ready $TG_ADMIN
echo "==> (c) tenantgate proxy, $ROUTES HTTPRoutes" >&2
C_OUT="$(run_wrk tenantgate $TG_PORT svc-50.bench.example.com /app-3/items)"
stop $TG_PID

# ---- route lookup at $LOOKUP_ROUTES routes, and RSS -------------------------------------------------------
echo "==> route lookup microbenchmark, $LOOKUP_ROUTES HTTPRoutes" >&2
LOOKUP_JSON="$("$NODE" "$ROOT/bench/proxy/lookup.ts" "$LOOKUP_ROUTES")"

echo "==> RSS with $LOOKUP_ROUTES HTTPRoutes" >&2
"$NODE" "$ROOT/bench/proxy/write-routes.ts" "$WORK/routes-rss" "$LOOKUP_ROUTES" $RSS_PORT $BACKEND_PORT
"$NODE" "$ROOT/cmd/tenantgate.ts" proxy --from-files "$WORK/routes-rss" --admin-address $RSS_ADMIN --access-log off \
  >"$WORK/tenantgate-rss.log" 2>&1 & RSS_PID=$!; PIDS+=($RSS_PID)
wait_ready $RSS_ADMIN
# a little traffic so the steady state (pools, caches, JIT) is part of the figure
wrk -t1 -c8 -d2s -H "Host: svc-7.bench.example.com" "http://127.0.0.1:$RSS_PORT/app-3/x" >/dev/null
sleep 1
RSS_KB="$(awk '/^VmRSS/ {print $2}' "/proc/$RSS_PID/status")"
stop $RSS_PID

"$NODE" "$ROOT/bench/proxy/report.ts" "$A_OUT" "$B_OUT" "$C_OUT" "$LOOKUP_JSON" "$RSS_KB" "$ROUTES" "$LOOKUP_ROUTES" "$CONNECTIONS" "$DURATION"
