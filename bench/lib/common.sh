# Shared pieces of the wrk benchmarks (bench/proxy/run.sh, bench/policies/run.sh), sourced after `set -euo
# pipefail`: ROOT and NODE, a work directory whose processes are killed on exit, readiness waits, nginx
# configs and the one-worker `return 200` backend, and a wrk run with warm-up.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NODE="$ROOT/node_modules/.bin/node"

require_node() {
  [ -x "$NODE" ] || { echo "bench: $NODE missing; run 'make deps' first" >&2; exit 1; }
}

# Sets WORK (a fresh directory) and PIDS; on exit every process appended to PIDS is stopped and WORK removed.
bench_workdir() { # mktemp-template
  WORK="$(mktemp -d "$1")"
  PIDS=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  sleep 0.3
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}

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

nginx_conf() { # name http-block-body
  cat >"$WORK/$1.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/$1.pid;
error_log $WORK/$1.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $WORK/$1-body; proxy_temp_path $WORK/$1-proxy; fastcgi_temp_path $WORK/$1-fcgi;
  uwsgi_temp_path $WORK/$1-uwsgi; scgi_temp_path $WORK/$1-scgi;
  $2
}
EOF
}

# The backend every case proxies to: nginx, one worker, `return 200 "ok\n"`.
start_backend() { # port
  nginx_conf backend "server { listen 127.0.0.1:$1; location / { default_type text/plain; return 200 \"ok\n\"; } }"
  nginx -p "$WORK" -c "$WORK/backend.conf" & PIDS+=($!)
  wait_port 127.0.0.1 "$1"
}

# A warm-up of WARMUP, then DURATION with --latency into OUT; both with CONNECTIONS connections, one thread.
wrk_measure() { # out url [wrk flags...]
  local out="$1" url="$2"
  shift 2
  wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "$@" "$url" >/dev/null
  wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$out"
}
