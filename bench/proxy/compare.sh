#!/usr/bin/env bash
# Throughput of this checkout's tenantgate proxy against another checkout's (e.g. the commit before a
# change), both with ROUTES HTTPRoutes in front of the same backend, measured in interleaved wrk rounds
# (the order alternates every round) so that a busy shared machine disturbs both alike. Prints req/s per
# round and the median ratio this/other. Both proxies run from source with this checkout's node_modules.
# Usage: bench/proxy/compare.sh OTHER_CHECKOUT   (env: ROUNDS=8 DURATION=5s CONNECTIONS=32 ROUTES=1000
#        PATH_UNDER_TEST=/app-3/items)
set -euo pipefail

# shellcheck source=../lib/common.sh
. "$(dirname "$0")/../lib/common.sh"
OTHER="${1:?usage: bench/proxy/compare.sh OTHER_CHECKOUT}"
OTHER="$(cd "$OTHER" && pwd)"
ROUNDS="${ROUNDS:-8}"
DURATION="${DURATION:-5s}"
WARMUP="${WARMUP:-2s}"
CONNECTIONS="${CONNECTIONS:-32}"
ROUTES="${ROUTES:-1000}"
TARGET="${PATH_UNDER_TEST:-/app-3/items}"
HOST=svc-50.bench.example.com
BACKEND_PORT=18920
THIS_PORT=18921
OTHER_PORT=18922
THIS_ADMIN=127.0.0.1:18923
OTHER_ADMIN=127.0.0.1:18924
command -v nginx >/dev/null && command -v wrk >/dev/null || { echo "bench: needs nginx and wrk" >&2; exit 1; }
require_node
[ -f "$OTHER/cmd/tenantgate.ts" ] || { echo "bench: $OTHER is not a tenantgate checkout" >&2; exit 1; }

bench_workdir /tmp/tg-compare.XXXXXX
start_backend $BACKEND_PORT
"$NODE" "$ROOT/bench/proxy/write-routes.ts" "$WORK/this" "$ROUTES" $THIS_PORT $BACKEND_PORT
"$NODE" "$ROOT/bench/proxy/write-routes.ts" "$WORK/other" "$ROUTES" $OTHER_PORT $BACKEND_PORT
"$NODE" "$ROOT/cmd/tenantgate.ts" proxy --from-files "$WORK/this" --admin-address $THIS_ADMIN --access-log off \
  >"$WORK/this.log" 2>&1 & PIDS+=($!)
"$NODE" "$OTHER/cmd/tenantgate.ts" proxy --from-files "$WORK/other" --admin-address $OTHER_ADMIN --access-log off \
  >"$WORK/other.log" 2>&1 & PIDS+=($!)
wait_ready $THIS_ADMIN
wait_ready $OTHER_ADMIN

measure() { # port -> req/s
  local out="$WORK/wrk-$1.txt"
  wrk_measure "$out" "http://127.0.0.1:$1$TARGET" -H "Host: $HOST"
  if grep -q 'Non-2xx' "$out"; then echo "bench: non-2xx answers on port $1" >&2; cat "$out" >&2; exit 1; fi
  awk '/Requests\/sec/ {print $2}' "$out"
}

echo "round  other req/s  this req/s  this/other   (wrk -t1 -c$CONNECTIONS -d$DURATION $TARGET, $ROUTES routes)"
RATIOS=()
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then o="$(measure $OTHER_PORT)"; t="$(measure $THIS_PORT)"
  else t="$(measure $THIS_PORT)"; o="$(measure $OTHER_PORT)"; fi
  r="$(awk -v t="$t" -v o="$o" 'BEGIN { printf "%.3f", t / o }')"
  RATIOS+=("$r")
  printf '%5d  %11.0f  %10.0f  %10s   load %s\n' "$round" "$o" "$t" "$r" "$(cut -d' ' -f1 /proc/loadavg)"
done
printf '%s\n' "${RATIOS[@]}" | sort -n | awk '{ a[NR] = $1 } END { printf "median this/other: %s (min %s, max %s)\n", a[int((NR + 1) / 2)], a[1], a[NR] }'
