#!/usr/bin/env bash
# Attached-policy benchmark, one run: wrk against `tenantgate proxy --from-files` with 1,000 HTTPRoutes in
# front of one backend (nginx, one worker, `return 200`), in four cases, each policy attached to the
# Gateway (so it governs every route):
#   (a) no policy
#   (b) a local RateLimitPolicy keyed by a Distinct header (X-Client) that is never reached
#   (c) an AccessPolicy allow-cidrs (evaluated by the opa-wasm engine on every request)
#   (d) the limit of (b) with its counters in Redis (--rate-limit-redis, a redis-server started here)
# Prints req/s, p50, p99 and the ratios to (a) against the targets (b) >= 0.95, (c) >= 0.85, (d) >= 0.60.
# Usage: bench/policies/run.sh   (env: DURATION=10s WARMUP=3s CONNECTIONS=32 ROUTES=1000)
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
NODE="$ROOT/node_modules/.bin/node"
DURATION="${DURATION:-10s}"
WARMUP="${WARMUP:-3s}"
CONNECTIONS="${CONNECTIONS:-32}"
ROUTES="${ROUTES:-1000}"
BACKEND_PORT=18920
TG_PORT=18921
TG_ADMIN=127.0.0.1:18922
REDIS_PORT=18923
HOST=svc-50.bench.example.com
URL_PATH=/app-3/items

for tool in nginx wrk redis-server curl; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "bench: $tool not found (Debian/Ubuntu: apt-get install -y nginx wrk redis-server curl)" >&2
    exit 1
  }
done
[ -x "$NODE" ] || { echo "bench: $NODE missing; run 'make deps' first" >&2; exit 1; }
[ -f "$ROOT/dist/policies/bundle.tar.gz" ] || { echo "bench: run 'make policies' first (case c)" >&2; exit 1; }

WORK="$(mktemp -d /tmp/tg-bench-policies.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

wait_port() { # host port
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench: nothing listening on $1:$2" >&2
  return 1
}

wait_ready() { # admin address
  for _ in $(seq 1 300); do
    curl -fsS "http://$1/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench: $1/readyz never answered 200" >&2
  return 1
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# ---- the backend (as bench/proxy/run.sh) and redis ---------------------------------------------------
cat >"$WORK/backend.conf" <<NGINX
worker_processes 1;
daemon off;
pid $WORK/backend.pid;
error_log $WORK/backend.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $WORK/b-body; proxy_temp_path $WORK/b-proxy; fastcgi_temp_path $WORK/b-fcgi;
  uwsgi_temp_path $WORK/b-uwsgi; scgi_temp_path $WORK/b-scgi;
  server { listen 127.0.0.1:$BACKEND_PORT; location / { default_type text/plain; return 200 "ok\n"; } }
}
NGINX
nginx -p "$WORK" -c "$WORK/backend.conf" & PIDS+=($!)
wait_port 127.0.0.1 $BACKEND_PORT
redis-server --port $REDIS_PORT --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 & PIDS+=($!)
wait_port 127.0.0.1 $REDIS_PORT

# ---- one case: routes + the case's policy, a fresh proxy, wrk ---------------------------------------------
run_case() { # label mode [proxy flags...]
  local label="$1" mode="$2"
  shift 2
  local dir="$WORK/routes-$mode" out="$WORK/wrk-$mode.txt"
  "$NODE" "$ROOT/bench/proxy/write-routes.ts" "$dir" "$ROUTES" $TG_PORT $BACKEND_PORT
  "$NODE" "$ROOT/bench/policies/write-policies.ts" "$dir" "$mode"
  "$NODE" "$ROOT/cmd/tenantgate.ts" proxy --from-files "$dir" --admin-address $TG_ADMIN --access-log off "$@" \
    >"$WORK/tenantgate-$mode.log" 2>&1 & local pid=$!; PIDS+=($pid)
  wait_ready $TG_ADMIN
  echo "==> $label" >&2
  local headers=(-H "Host: $HOST" -H "X-Client: bench-client-1")
  # the policy must be in force: a probe's answer carries its headers (rate limit) or passes (access)
  local probe
  probe="$(curl -s -D - -o /dev/null "${headers[@]}" "http://127.0.0.1:$TG_PORT$URL_PATH")"
  case "$mode" in
    local|redis) grep -qi '^x-ratelimit-limit: 100000000' <<<"$probe" || { echo "bench: $mode: no rate-limit headers" >&2; echo "$probe" >&2; exit 1; } ;;
  esac
  grep -q '^HTTP/1.1 200' <<<"$probe" || { echo "bench: $mode answered: $probe" >&2; exit 1; }
  wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "${headers[@]}" "http://127.0.0.1:$TG_PORT$URL_PATH" >/dev/null
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "${headers[@]}" "http://127.0.0.1:$TG_PORT$URL_PATH" >"$out"
  if [ "$mode" = access ]; then
    curl -s "http://$TG_ADMIN/metrics" | grep -q 'tenantgate_access_decisions_total{policy="bench/loopback",decision="allowed"}' \
      || { echo "bench: access: no allowed decisions counted" >&2; exit 1; }
  fi
  stop $pid
  echo "$out"
}

A_OUT="$(run_case "(a) no policy, $ROUTES HTTPRoutes" none)"
B_OUT="$(run_case "(b) local limit keyed by X-Client (never reached)" local)"
C_OUT="$(run_case "(c) AccessPolicy allow-cidrs" access)"
D_OUT="$(run_case "(d) global limit in Redis" redis --rate-limit-redis "redis://127.0.0.1:$REDIS_PORT")"

"$NODE" "$ROOT/bench/policies/report.ts" "$A_OUT" "$B_OUT" "$C_OUT" "$D_OUT" "$ROUTES" "$CONNECTIONS" "$DURATION"
