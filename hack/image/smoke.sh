#!/usr/bin/env bash
# `make image-smoke`: runs the built image with podman. 1) `tenantgate --help`; 2) `tenantgate proxy
# --from-files` with a Gateway, HTTPRoute and a backend on the host: a request through the container must be
# answered by that backend (200 and its body); 3) the process runs as the image's non-root user; 4) chrt
# (util-linux) can put a thread on SCHED_IDLE in the container, as the audit store's loader does.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
NODE=$ROOT/node_modules/.bin/node
start=$(date +%s)
name=tenantgate-smoke-$$
work=$(mktemp -d)
backend_pid=
cleanup() {
  podman_ rm --force --time 2 "$name" >/dev/null 2>&1 || true
  [ -n "$backend_pid" ] && kill "$backend_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "error: image smoke: $*" >&2; exit 1; }

echo "==> smoke: tenantgate --help"
# shellcheck disable=SC2046
help=$(podman_ run --rm --network none $(podman_run_flags) "$IMAGE_NAME" --help)
grep -q '^usage: tenantgate <command>' <<<"$help" || fail "--help printed: $help"

echo "==> smoke: chrt sets SCHED_IDLE (the audit store's loader thread asks for it)"
# shellcheck disable=SC2046
policy=$(podman_ run --rm --network none $(podman_run_flags) --entrypoint chrt "$IMAGE_NAME" --idle 0 chrt --pid 1 2>&1) ||
  fail "chrt --idle failed in the image: $policy"
grep -q 'SCHED_IDLE' <<<"$policy" || fail "chrt did not set SCHED_IDLE: $policy"

echo "==> smoke: tenantgate proxy --from-files, a request through it to a backend on the host"
free_port() { "$NODE" -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
backend_port=$(free_port) listener_port=$(free_port) admin_port=$(free_port)
"$NODE" -e '
  require("http").createServer((q, r) => r.end(JSON.stringify({backend: "smoke", path: q.url, host: q.headers.host})))
    .listen(+process.argv[1], "127.0.0.1")' "$backend_port" &
backend_pid=$!
mkdir -p "$work/config"
cat >"$work/config/smoke.yaml" <<YAML
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: tenantgate}
spec: {controllerName: tenantgate.io/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: smoke, namespace: smoke}
spec:
  gatewayClassName: tenantgate
  listeners: [{name: http, port: $listener_port, protocol: HTTP}]
---
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: smoke}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: backend-1, namespace: smoke, labels: {kubernetes.io/service-name: backend}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
ports: [{name: http, port: $backend_port}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: smoke, namespace: smoke}
spec:
  parentRefs: [{name: smoke}]
  hostnames: [smoke.example.com]
  rules: [{backendRefs: [{name: backend, port: 80}]}]
YAML
chmod -R a+rX "$work" # the container's user (65532) reads the mounted files
# Host network: the proxy reaches the host's backend on loopback, and podman makes no bridge.
# shellcheck disable=SC2046
podman_ run --detach --name "$name" --network host $(podman_run_flags) -v "$work/config:/config:ro" \
  "$IMAGE_NAME" proxy --from-files /config --bind-address 127.0.0.1 --admin-address "127.0.0.1:$admin_port" \
  --access-log off >/dev/null

ready=
for _ in $(seq 1 100); do
  if curl -fsS "http://127.0.0.1:$admin_port/readyz" >/dev/null 2>&1; then ready=1; break; fi
  [ "$(podman_ inspect --format '{{.State.Running}}' "$name")" = true ] || break
  sleep 0.2
done
[ -n "$ready" ] || { podman_ logs "$name" >&2 || true; fail "the proxy never became ready on 127.0.0.1:$admin_port"; }
body=$(curl -sS -H 'Host: smoke.example.com' -w '\n%{http_code}' "http://127.0.0.1:$listener_port/hello")
[ "$(tail -n1 <<<"$body")" = 200 ] || { podman_ logs "$name" >&2 || true; fail "expected 200 through the proxy, got: $body"; }
grep -q '"backend":"smoke","path":"/hello"' <<<"$body" || fail "the backend's answer did not come through: $body"
echo "    200 from the backend through the container: $(head -n1 <<<"$body")"
curl -fsS "http://127.0.0.1:$admin_port/metrics" | grep -q '^tenantgate_proxy_requests_total{.*code="200"} 1$' ||
  fail "/metrics does not count the request"

user=$(podman_ top "$name" user huser | awk 'NR==2 {print $1}')
[ "$user" = tenantgate ] || [ "$user" = 65532 ] || fail "the proxy runs as '$user', not the image's non-root user"
echo "    runs as: $user"
echo "==> smoke: passed in $(elapsed "$start")"
