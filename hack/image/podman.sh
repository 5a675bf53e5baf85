#!/usr/bin/env bash
# podman on the project's container storage (where `make image` puts the image), with the settings this
# machine kind needs (hack/image/lib.sh). usage: hack/image/podman.sh run --rm localhost/tenantgate:0.1.0 --help
set -euo pipefail
source "$(dirname "$0")/lib.sh"
if [ "${1:-}" = run ]; then
  shift
  # shellcheck disable=SC2046 # word splitting of the flags is intended
  exec podman "${STORAGE_FLAGS[@]}" "${PODMAN_FLAGS[@]}" run $(podman_run_flags) "$@"
fi
exec podman "${STORAGE_FLAGS[@]}" "${PODMAN_FLAGS[@]}" "$@"
