# Shared by the hack/image/ scripts (sourced). The image is built and run with a container storage of
# the project's own (.tenantgate/image/storage, vfs driver), so a build needs no overlay mounts or FUSE,
# and neither touches nor depends on the machine's own container storage and its driver choice.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IMAGE_STATE=${TENANTGATE_IMAGE_STATE:-$ROOT/.tenantgate/image}
IMAGE_NAME=${IMAGE_NAME:-localhost/tenantgate:$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$ROOT/package.json")}
STORAGE_FLAGS=(--root "$IMAGE_STATE/storage" --runroot "$IMAGE_STATE/run" --storage-driver vfs)
# RUN steps (none in our Dockerfile today) would execute by chroot: no user namespace or OCI runtime needed.
export BUILDAH_ISOLATION=chroot

buildah_() { buildah "${STORAGE_FLAGS[@]}" "$@"; }

# runc, not crun: crun refuses a hybrid cgroup v1/v2 host ("cgroups in hybrid mode not supported"). The
# rlimits are set explicitly because podman otherwise asks for more open files than a process without
# CAP_SYS_RESOURCE may raise to ("setrlimit RLIMIT_NOFILE: Operation not permitted"). Networking is always
# given per run (host or none), so podman never creates a bridge or firewall rules on the machine.
PODMAN_FLAGS=(--runtime runc --cgroup-manager cgroupfs --events-backend file)
podman_() { podman "${STORAGE_FLAGS[@]}" "${PODMAN_FLAGS[@]}" "$@"; }
podman_run_flags() {
  local nofile
  nofile=$(ulimit -Hn)
  [ "$nofile" = unlimited ] && nofile=65536
  echo --ulimit "nofile=$nofile:$nofile" --ulimit nproc=4096:4096
}

elapsed() { echo "$(($(date +%s) - $1))s"; }
