#!/usr/bin/env bash
# Fails when a wrapper module under test/tools/ pins another version than versions.mk.
set -euo pipefail
cd "$(dirname "$0")/.."
get() { sed -n "s/^$1 *:= *//p" versions.mk; }
check() { # module-dir module version
  grep -qE "^\s*(require )?$2 v$3( // indirect)?\$" "test/tools/$1/go.mod" || {
    echo "error: test/tools/$1/go.mod does not require $2 v$3 (versions.mk). Run 'make tools-pin'." >&2; exit 1; }
}
check kube k8s.io/kubernetes "$(get KUBE_VERSION)"
check etcd go.etcd.io/etcd/server/v3 "$(get ETCD_VERSION)"
check opa github.com/open-policy-agent/opa "$(get OPA_VERSION)"
check prometheus github.com/prometheus/prometheus "$(hack/prometheus-module-version.sh "$(get PROMETHEUS_VERSION)")"
