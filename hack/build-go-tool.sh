#!/usr/bin/env bash
# Builds one Go command from a wrapper module under test/tools/ into bin/, with progress.
# usage: hack/build-go-tool.sh NAME MODULE_DIR PACKAGE OUTPUT [LDFLAGS] [BUILD_TAGS]
set -euo pipefail
name=$1 moddir=$2 pkg=$3 out=$4 ldflags=${5:-} tags=${6:-}

if ! command -v go >/dev/null 2>&1; then
  echo "error: '$name' is built from Go modules, but no 'go' command is on PATH." >&2
  echo "       Install Go >= 1.24 (Debian: apt-get install golang, or https://go.dev/dl) and rerun 'make tools'." >&2
  exit 1
fi

cd "$moddir"
echo "==> $name: resolving modules in $moddir (needs the Go module proxy on first run)"
if ! go mod download >/tmp/tenantgate-go-download.$$ 2>&1; then
  cat /tmp/tenantgate-go-download.$$ >&2; rm -f /tmp/tenantgate-go-download.$$
  echo "error: could not download the Go modules for '$name'. Is the Go module proxy (GOPROXY=$(go env GOPROXY)) reachable?" >&2
  exit 1
fi
rm -f /tmp/tenantgate-go-download.$$
total=$(CGO_ENABLED=0 go list -tags "$tags" -deps "$pkg" | wc -l)
echo "==> $name: compiling $pkg ($total packages; cached ones are skipped — cold on 2 cores: kube-apiserver ~5 min, then kube-controller-manager ~5 min more, prometheus ~6 min, the rest ~1-2 min each)"
start=$(date +%s)
log=$(mktemp)
CGO_ENABLED=0 go build -v -trimpath -tags "$tags" -ldflags "-s -w $ldflags" -o "$out.tmp" "$pkg" 2>"$log" &
pid=$!
# checked every second (a cached build only links, in seconds), progress printed every 30 s
ticks=0
while kill -0 "$pid" 2>/dev/null; do
  sleep 1
  kill -0 "$pid" 2>/dev/null || break
  (( ++ticks % 30 == 0 )) || continue
  done_count=$(grep -c -v '^#' "$log" || true)
  echo "    $name: $done_count/$total packages compiled, $(( $(date +%s) - start ))s elapsed"
done
if ! wait "$pid"; then
  tail -40 "$log" >&2; rm -f "$log" "$out.tmp"
  echo "error: building '$name' failed (last lines above)." >&2
  exit 1
fi
rm -f "$log"
mv "$out.tmp" "$out"
echo "==> $name: built $out in $(( $(date +%s) - start ))s"
