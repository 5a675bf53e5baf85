#!/usr/bin/env bash
# Attached-policy benchmark, one run: wrk against `tenantgate proxy --from-files` with 1,000 HTTPRoutes in
# front of one backend (nginx, one worker, `return 200`), in four cases, each policy attached to the
# Gateway (so it governs every route):
#   (a) no policy
#   (b) a local RateLimitPolicy keyed by a Distinct header (X-Client) that is never reached
#   (c) an AccessPolicy allow-cidrs (evaluated by the opa-wasm engine on every request)
#   (d) the limit of (b) with its counters in Redis (--rate-limit-redis, a redis-server started here)
# Prints req/s, p50, p99 and the ratios to (a) against the targets (b) >= 0.95, (c) >= 0.85, (d) >= 0.60.
# Usage: bench/policies/run.sh   (env: DURATION=5s WARMUP=1s ROUNDS=5 CONNECTIONS=32 ROUTES=1000)
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
DURATION="${DURATION:-5s}"
WARMUP="${WARMUP:-1s}"
ROUNDS="${ROUNDS:-5}"
CONNECTIONS="${CONNECTIONS:-32}"
ROUTES="${ROUTES:-1000}"
BACKEND_PORT=18920
REDIS_PORT=18923
HOST=svc-50.bench.example.com
URL_PATH=/app-3/items

for tool in nginx wrk redis-server curl; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "bench: $tool not found (Debian/Ubuntu: apt-get install -y nginx wrk redis-server curl)" >&2
    exit 1
  }
done
require_node
[ -f "$ROOT/dist/policies/bundle.tar.gz" ] || { echo "bench: run 'make policies' first (case c)" >&2; exit 1; }

bench_workdir /tmp/tg-bench-policies.XXXXXX

# ---- the backend (bench/lib/common.sh) and redis -----------------------------------------------------
start_backend $BACKEND_PORT
redis-server --port $REDIS_PORT --bind 127.0.0.1 --save '' --appendonly no --dir "$WORK" >"$WORK/redis.log" 2>&1 & PIDS+=($!)
wait_port 127.0.0.1 $REDIS_PORT

# ---- the four proxies, started once, then measured in interleaved rounds --------------------------------
# The machine is shared and small: measuring a, b, c, d in turn, ROUNDS times, and keeping each case's
# best round keeps a burst of someone else's load from being read as the cost of a policy.
start_case() { # mode port admin-port [proxy flags...]
  local mode="$1" port="$2" admin="127.0.0.1:$3"
  shift 3
  local dir="$WORK/routes-$mode"
  "$NODE" "$ROOT/bench/proxy/write-routes.ts" "$dir" "$ROUTES" "$port" $BACKEND_PORT
  "$NODE" "$ROOT/bench/policies/write-policies.ts" "$dir" "$mode"
  "$NODE" "$ROOT/cmd/tenantgate.ts" proxy --from-files "$dir" --admin-address "$admin" --access-log off "$@" \
    >"$WORK/tenantgate-$mode.log" 2>&1 & PIDS+=($!)
  wait_ready "$admin"
  # the policy must be in force: the rate-limit cases answer with their headers; every case answers 200
  local probe
  probe="$(curl -s -D - -o /dev/null "${HEADERS[@]}" "http://127.0.0.1:$port$URL_PATH")"
  grep -q '^HTTP/1.1 200' <<<"$probe" || { echo "bench: $mode answered: $probe" >&2; exit 1; }
  case "$mode" in
    local|redis) grep -qi '^x-ratelimit-limit: 100000000' <<<"$probe" \
      || { echo "bench: $mode: no rate-limit headers in $probe" >&2; exit 1; } ;;
  esac
}

measure() { # mode port round
  wrk_measure "$WORK/wrk-$1-$3.txt" "http://127.0.0.1:$2$URL_PATH" "${HEADERS[@]}"
}

HEADERS=(-H "Host: $HOST" -H "X-Client: bench-client-1")
echo "==> starting 4 proxies with $ROUTES HTTPRoutes each" >&2
start_case none 18924 18925
start_case local 18926 18927
start_case access 18928 18929
start_case redis 18930 18931 --rate-limit-redis "redis://127.0.0.1:$REDIS_PORT"
for round in $(seq 1 "$ROUNDS"); do
  echo "==> round $round/$ROUNDS: (a) none, (b) local, (c) access, (d) redis" >&2
  measure none 18924 "$round"
  measure local 18926 "$round"
  measure access 18928 "$round"
  measure redis 18930 "$round"
done
curl -s "http://127.0.0.1:18929/metrics" | grep -q 'tenantgate_access_decisions_total{policy="bench/loopback",decision="allowed"}' \
  || { echo "bench: (c) counted no allowed AccessPolicy decisions" >&2; exit 1; }

"$NODE" "$ROOT/bench/policies/report.ts" "$WORK" "$ROUNDS" "$ROUTES" "$CONNECTIONS" "$DURATION"
