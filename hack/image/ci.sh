#!/usr/bin/env bash
# CI's image step (.ci/run): `make image` when buildah can run on this machine, then `make image-smoke` when
# podman can. A tool that refuses to run here (hack/image/probe.sh exit 3: user namespaces, mounts,
# cgroups...) is reported with its exact error and skipped; any other failure fails CI.
set -euo pipefail
cd "$(dirname "$0")/../.."
probe() {
  local rc=0
  hack/image/probe.sh "$1" || rc=$?
  case $rc in
  0) return 0 ;;
  3) echo "==> image: SKIPPED '$2': $1 refuses to run on this machine (its error is above); CI goes on"; return 1 ;;
  *) echo "error: probing $1 failed (exit $rc), which is not the tool's refusal" >&2; exit "$rc" ;;
  esac
}
probe buildah "make image" || exit 0
make image
probe podman "make image-smoke" || exit 0
make image-smoke
