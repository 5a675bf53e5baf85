#!/usr/bin/env bash
# Stages the image's build context in .tenantgate/image/context/: exactly what the runtime needs.
#   node                  the pinned Node 24 binary (node_modules/node/bin/node, the `node` devDependency)
#   app/package.json      "type": "module" and the version
#   app/dist/             the compiled TypeScript and the policy bundle (dist/policies/bundle.tar.gz)
#   app/node_modules/     production dependencies only (npm ci --omit=dev, without type declarations and
#                         source maps), cached per package.json + package-lock.json
# Prints the context directory. Needs `make build` first.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

for f in dist/cmd/tenantgate.js dist/policies/bundle.tar.gz node_modules/node/bin/node; do
  [ -e "$f" ] || { echo "error: $f is missing: run 'make build' first" >&2; exit 1; }
done

key=$(cat package.json package-lock.json | sha256sum | cut -c1-16)
modules=$IMAGE_STATE/npm-$key
if [ ! -f "$modules/.done" ]; then
  echo "==> context: production node_modules (npm ci --omit=dev) into $modules" >&2
  rm -rf "$IMAGE_STATE"/npm-* # another lockfile's modules are dead weight
  mkdir -p "$modules"
  cp package.json package-lock.json "$modules/"
  # --ignore-scripts: no production dependency has an install script (only the `node` devDependency,
  # which is not installed here); a new one that needs one would show in the smoke run.
  (cd "$modules" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >&2)
  # Type declarations and source maps are for editors and debuggers, not the runtime (half the size).
  find "$modules/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete
  touch "$modules/.done"
fi

context=$IMAGE_STATE/context
rm -rf "$context"
mkdir -p "$context/app"
# Hard links where possible: the context lives on the same file system and buildah copies it anyway.
cp -l node_modules/node/bin/node "$context/node" 2>/dev/null || cp node_modules/node/bin/node "$context/node"
cp package.json "$context/app/"
cp -al dist "$context/app/dist" 2>/dev/null || cp -a dist "$context/app/dist"
cp -al "$modules/node_modules" "$context/app/node_modules" 2>/dev/null || cp -a "$modules/node_modules" "$context/app/"
echo "$context"
