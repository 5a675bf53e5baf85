# Every pinned tool version, in one place. The Go wrapper modules under test/tools/ must agree
# (`make tools-verify` checks; `make tools-pin` rewrites them after a bump).
KUBE_VERSION        := 1.36.3
ETCD_VERSION        := 3.6.16
OPA_VERSION         := 1.22.2
GATEWAY_API_VERSION := 1.7.0
# Prometheus publishes its Go module as v0.<major><minor, 2 digits>.<patch> (3.16.0 -> v0.316.0).
PROMETHEUS_VERSION  := 3.16.0
