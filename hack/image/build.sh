#!/usr/bin/env bash
# `make image`: builds the Dockerfile's image with buildah (vfs storage, chroot isolation) into the
# project's container storage, from the mmdebstrap base and the staged context. Prints size and time.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
command -v buildah >/dev/null || {
  echo "error: 'make image' needs buildah (Debian: apt-get install buildah podman runc mmdebstrap)" >&2
  exit 1
}
start=$(date +%s)
base=$(hack/image/base.sh)
context=$(hack/image/context.sh)
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)

echo "==> image: buildah build $IMAGE_NAME (base $base)"
old=$(buildah_ inspect --type image --format '{{.FromImageID}}' "$IMAGE_NAME" 2>/dev/null || true)
# --layers=false (the default, said out loud): one layer over the base, not one per instruction; with
# vfs every layer is a full copy.
buildah_ build --quiet --isolation chroot --layers=false --pull=never \
  --build-arg "BASE=$base" --build-arg "VERSION=$version" \
  -f Dockerfile -t "$IMAGE_NAME" "$context" >/dev/null
if [ -n "$old" ] && [ "$old" != "$(buildah_ inspect --type image --format '{{.FromImageID}}' "$IMAGE_NAME")" ]; then
  buildah_ rmi "$old" >/dev/null 2>&1 || true # the previous build, now untagged
fi

size=$(buildah_ images --format '{{.Size}}' "$IMAGE_NAME")
echo "==> image: built $IMAGE_NAME ($size) in $(elapsed "$start")"
echo "    run it: hack/image/podman.sh run --rm $IMAGE_NAME --help"
