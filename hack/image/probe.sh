#!/usr/bin/env bash
# Can buildah (or podman) work on this machine? Runs the smallest operation of each kind that the image
# build (or smoke run) needs, on input of our own that cannot be at fault, so a failure is the tool's own
# refusal (user namespaces, mounts, cgroups, rlimits...). usage: hack/image/probe.sh buildah|podman
# Exit 0: it works. Exit 3: the tool refused; its exact error is printed. Anything else: a real failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
tool=${1:?usage: probe.sh buildah|podman}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
refused() {
  echo "$tool cannot run on this machine: '$1' failed with:" >&2
  sed 's/^/    /' "$log" >&2
  exit 3
}

case $tool in
buildah)
  command -v buildah >/dev/null || { echo "error: buildah is not installed" >&2; exit 1; }
  echo probe >"$log.file"
  trap 'rm -f "$log" "$log.file"' EXIT
  container=$(buildah_ from scratch 2>"$log") || refused "buildah from scratch"
  buildah_ copy "$container" "$log.file" /probe >/dev/null 2>"$log" || refused "buildah copy"
  buildah_ commit --quiet --rm "$container" localhost/tenantgate-probe:latest >/dev/null 2>"$log" ||
    refused "buildah commit"
  buildah_ rmi localhost/tenantgate-probe:latest >/dev/null 2>"$log" || refused "buildah rmi"
  ;;
podman)
  command -v podman >/dev/null || { echo "error: podman is not installed" >&2; exit 1; }
  base=$("$(dirname "$0")/base.sh")
  # The dynamic loader is in every glibc image and prints its version: nothing of ours can fail here.
  # podman exits 125 when the error is podman's own and 126 when the OCI runtime refused to start the
  # process (documented: podman-run(1), "Exit Status"); 127 would mean the loader is missing (our bug).
  set +e
  # shellcheck disable=SC2046
  podman_ run --rm --network none $(podman_run_flags) "$base" /lib64/ld-linux-x86-64.so.2 --version >/dev/null 2>"$log"
  rc=$?
  set -e
  if { [ "$rc" = 125 ] || [ "$rc" = 126 ]; } && grep -q '^Error: ' "$log"; then refused "podman run"; fi
  if [ "$rc" != 0 ]; then
    echo "error: podman ran the base image, but its dynamic loader exited $rc:" >&2
    cat "$log" >&2
    exit 1
  fi
  ;;
*) echo "usage: probe.sh buildah|podman" >&2; exit 2 ;;
esac
echo "$tool works on this machine"
