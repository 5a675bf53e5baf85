#!/usr/bin/env bash
# Makes the image's base: a minimal Debian root filesystem built by mmdebstrap from Debian's packages (no
# container registry needed), imported into the project's container storage. Prints the base image name.
#
# Only what `node` needs at run time: the C and C++ runtimes, /etc/passwd and /etc/group, /etc/services;
# and util-linux for `chrt`, with which the audit store's loader thread asks for SCHED_IDLE (measured: ~1.5 ms
# better admission p99 than the nice-19 fallback when the webhook's cores are busy; docs/audit.md).
# The variant is "extract": packages are unpacked, no maintainer script runs, so nothing executes on the
# machine building it (mmdebstrap's chrootless mode would run them on the host; see its manual).
# The tarball is cached in .tenantgate/image/base/ (or $TENANTGATE_IMAGE_CACHE, which CI points outside its
# fresh clone), keyed by everything that decides its contents.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SUITE=bookworm
PACKAGES=(base-files base-passwd libc6 libgcc-s1 libstdc++6 netbase util-linux)
MIRRORS=(
  "deb http://deb.debian.org/debian $SUITE main"
  "deb http://deb.debian.org/debian $SUITE-updates main"
  "deb http://deb.debian.org/debian-security $SUITE-security main"
)
DPKG_OPTS=(
  'path-exclude=/usr/share/doc/*' 'path-include=/usr/share/doc/*/copyright' # licences stay
  'path-exclude=/usr/share/man/*' 'path-exclude=/usr/share/locale/*'
  'path-exclude=/usr/lib/x86_64-linux-gnu/gconv/*' # iconv modules: Node converts with its own ICU
)
# No maintainer scripts run, so do what base-passwd's would (the accounts) and name the image's user.
# nsswitch: without the file, glibc asks DNS before /etc/hosts, even for localhost.
EXTRACT_HOOK='cp "$1/usr/share/base-passwd/passwd.master" "$1/etc/passwd"
cp "$1/usr/share/base-passwd/group.master" "$1/etc/group"
echo "tenantgate:x:65532:65532:tenantgate:/nonexistent:/usr/sbin/nologin" >> "$1/etc/passwd"
echo "tenantgate:x:65532:" >> "$1/etc/group"
printf "passwd: files\ngroup: files\nhosts: files dns\n" > "$1/etc/nsswitch.conf"'

key=$(printf '%s\n' "$SUITE" "${PACKAGES[@]}" "${MIRRORS[@]}" "${DPKG_OPTS[@]}" "$EXTRACT_HOOK" | sha256sum | cut -c1-16)
cache=${TENANTGATE_IMAGE_CACHE:-$IMAGE_STATE/base}
tarball=$cache/$SUITE-$key.tar
image=localhost/tenantgate-base:$SUITE-$key

if [ ! -s "$tarball" ]; then
  command -v mmdebstrap >/dev/null || {
    echo "error: making the base root filesystem needs mmdebstrap (Debian: apt-get install mmdebstrap)" >&2
    exit 1
  }
  echo "==> base: mmdebstrap $SUITE (${PACKAGES[*]}) -> $tarball" >&2
  start=$(date +%s)
  mkdir -p "$cache"
  rm -f "$cache"/*.tar # an older key's tarball is dead weight
  mmdebstrap --quiet --mode=root --variant=extract --format=tar \
    --include="$(IFS=,; echo "${PACKAGES[*]}")" \
    "${DPKG_OPTS[@]/#/--dpkgopt=}" --extract-hook="$EXTRACT_HOOK" \
    "$SUITE" "$tarball.tmp" "${MIRRORS[@]}" >&2
  mv "$tarball.tmp" "$tarball"
  echo "==> base: $(du -h "$tarball" | cut -f1) in $(elapsed "$start")" >&2
fi

if ! buildah_ inspect --type image "$image" >/dev/null 2>&1; then
  echo "==> base: importing $tarball as $image" >&2
  container=$(buildah_ from scratch)
  buildah_ add --quiet "$container" "$tarball" / >&2
  buildah_ config --env PATH=/usr/local/bin:/usr/bin:/bin --created-by "hack/image/base.sh (mmdebstrap $SUITE)" \
    "$container" >&2
  buildah_ commit --quiet --rm "$container" "$image" >/dev/null
fi
echo "$image"
