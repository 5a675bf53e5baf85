#!/usr/bin/env bash
# Copies the Gateway API CRDs (standard and experimental channels) out of the sigs.k8s.io/gateway-api
# Go module into bin/. usage: hack/fetch-gateway-api-crds.sh vX.Y.Z DEST
set -euo pipefail
version=$1 dest=$2
command -v go >/dev/null || { echo "error: fetching the Gateway API CRDs needs 'go' (>= 1.24) on PATH" >&2; exit 1; }
echo "==> gateway-api $version: downloading the module's CRDs"
# Read the module zip itself: `go mod download` verifies its checksum but refuses to unpack a module whose
# go.mod asks for a newer Go than ours, and we need only its YAML.
zip=$(cd /tmp && { GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/gateway-api@$version" || true; } | sed -n 's/^\s*"Zip": "\(.*\)",$/\1/p')
if [ -z "$zip" ] || [ ! -f "$zip" ]; then
  echo "error: could not download sigs.k8s.io/gateway-api@$version from the Go module proxy ($(go env GOPROXY))" >&2
  exit 1
fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
prefix="sigs.k8s.io/gateway-api@$version/config/crd"
python3 - "$zip" "$prefix" "$work" <<'PY'
import sys, zipfile
zf, prefix, out = zipfile.ZipFile(sys.argv[1]), sys.argv[2] + '/', sys.argv[3]
names = [n for n in zf.namelist() if n.startswith(prefix) and n.endswith('.yaml')]
if not names: sys.exit('error: no CRDs under ' + prefix)
zf.extractall(out, names)
PY
dir="$work/sigs.k8s.io/gateway-api@$version"
rm -rf "$dest"; mkdir -p "$dest/standard" "$dest/experimental"
# Only the CRDs: the channel's ValidatingAdmissionPolicy files are not ours to install.
cp "$dir"/config/crd/standard/gateway.networking.k8s.io_*.yaml "$dest/standard/"
cp "$dir"/config/crd/experimental/gateway.networking*.yaml "$dest/experimental/" 2>/dev/null || true
rm -f "$dest"/*/*vap*
chmod -R u+w "$dest"
echo "==> gateway-api $version: $(ls "$dest/standard" | wc -l) standard CRDs in $dest"
