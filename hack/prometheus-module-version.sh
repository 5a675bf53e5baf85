#!/usr/bin/env bash
# Prometheus release X.Y.Z is published as the Go module version 0.X<Y as 2 digits>.Z (3.16.0 -> 0.316.0).
# usage: hack/prometheus-module-version.sh 3.16.0
set -euo pipefail
IFS=. read -r major minor patch <<<"${1:?usage: prometheus-module-version.sh X.Y.Z}"
printf '0.%d%02d.%d\n' "$major" "$minor" "$patch"
