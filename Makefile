# tenantgate — build, test and run. Every target is idempotent; tools are cached in bin/ (git-ignored).
include versions.mk

SHELL        := /usr/bin/env bash
.SHELLFLAGS  := -euo pipefail -c
BIN          := $(CURDIR)/bin
NODE_BIN     := $(CURDIR)/node_modules/.bin
NODE         := $(NODE_BIN)/node
export PATH  := $(NODE_BIN):$(BIN):$(PATH)
export TENANTGATE_BIN_DIR := $(BIN)

KUBE_MINOR   := $(word 2,$(subst ., ,$(KUBE_VERSION)))
KUBE_LDFLAGS := $(foreach p,k8s.io/component-base/version k8s.io/client-go/pkg/version,\
  -X $(p).gitVersion=v$(KUBE_VERSION) -X $(p).gitMajor=1 -X $(p).gitMinor=$(KUBE_MINOR) \
  -X $(p).gitTreeState=clean -X $(p).buildDate=1970-01-01T00:00:00Z)
ETCD_LDFLAGS := -X go.etcd.io/etcd/api/v3/version.GitSHA=v$(ETCD_VERSION)
OPA_LDFLAGS  := -X github.com/open-policy-agent/opa/v1/version.Version=$(OPA_VERSION)
GWAPI_CRDS   := $(BIN)/gateway-api-crds/v$(GATEWAY_API_VERSION)
# Prometheus and promtool, for the monitoring test (config/monitoring/): without the service-discovery
# plugins (remove_all_sd: static and file targets stay), which are a third of the build.
PROM_TAGS    := remove_all_sd
PROM_LDFLAGS := $(foreach v,Version=$(PROMETHEUS_VERSION) Revision=v$(PROMETHEUS_VERSION) Branch=HEAD \
  BuildUser=tenantgate BuildDate=19700101-00:00:00,-X github.com/prometheus/common/version.$(v))

.PHONY: all help deps tools tools-verify tools-pin build policies test test-unit test-integration bench \
        bench-tenants bench-admission bench-audit bench-proxy bench-micro \
        test-policies lint format run bench conformance clean image image-smoke

all: build

help: ## Show the targets
	@grep -hE '^[a-z-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/	/' | sort

## ---- dependencies ---------------------------------------------------------------------------
deps: node_modules/.installed ## npm dependencies, including a pinned Node 24 in node_modules/.bin

node_modules/.installed: package.json package-lock.json
	@echo "==> npm ci (installs the pinned Node 24 runtime and dependencies)"
	npm ci --no-audit --no-fund
	@touch $@

tools: tools-verify $(BIN)/kube-apiserver $(BIN)/kube-controller-manager $(BIN)/kubectl $(BIN)/etcd $(BIN)/opa $(BIN)/prometheus $(BIN)/promtool $(GWAPI_CRDS)/.ok ## Build kube-apiserver, kube-controller-manager, kubectl, etcd, opa, prometheus, promtool; fetch Gateway API CRDs

tools-verify: ## Check the wrapper modules pin what versions.mk says
	@hack/verify-tool-versions.sh

tools-pin: ## Rewrite the wrapper modules after changing versions.mk
	@hack/pin-tool-versions.sh

$(BIN)/kube-apiserver: versions.mk test/tools/kube/go.mod test/tools/kube/go.sum
	@mkdir -p $(BIN)
	@hack/build-go-tool.sh kube-apiserver test/tools/kube k8s.io/kubernetes/cmd/kube-apiserver $@ "$(KUBE_LDFLAGS)"

$(BIN)/kube-controller-manager: versions.mk test/tools/kube/go.mod test/tools/kube/go.sum
	@mkdir -p $(BIN)
	@hack/build-go-tool.sh kube-controller-manager test/tools/kube k8s.io/kubernetes/cmd/kube-controller-manager $@ "$(KUBE_LDFLAGS)"

$(BIN)/kubectl: versions.mk test/tools/kube/go.mod test/tools/kube/go.sum
	@mkdir -p $(BIN)
	@hack/build-go-tool.sh kubectl test/tools/kube k8s.io/kubernetes/cmd/kubectl $@ "$(KUBE_LDFLAGS)"

$(BIN)/etcd: versions.mk test/tools/etcd/go.mod test/tools/etcd/go.sum
	@mkdir -p $(BIN)
	@hack/build-go-tool.sh etcd test/tools/etcd go.etcd.io/etcd/server/v3 $@ "$(ETCD_LDFLAGS)"

$(BIN)/opa: versions.mk test/tools/opa/go.mod test/tools/opa/go.sum
	@mkdir -p $(BIN)
	@hack/build-go-tool.sh opa test/tools/opa github.com/open-policy-agent/opa $@ "$(OPA_LDFLAGS)"

$(BIN)/prometheus: versions.mk test/tools/prometheus/go.mod test/tools/prometheus/go.sum
	@mkdir -p $(BIN)
	@hack/build-go-tool.sh prometheus test/tools/prometheus github.com/prometheus/prometheus/cmd/prometheus $@ "$(PROM_LDFLAGS)" $(PROM_TAGS)

$(BIN)/promtool: versions.mk test/tools/prometheus/go.mod test/tools/prometheus/go.sum
	@mkdir -p $(BIN)
	@hack/build-go-tool.sh promtool test/tools/prometheus github.com/prometheus/prometheus/cmd/promtool $@ "$(PROM_LDFLAGS)" $(PROM_TAGS)

$(GWAPI_CRDS)/.ok: versions.mk
	@hack/fetch-gateway-api-crds.sh v$(GATEWAY_API_VERSION) $(GWAPI_CRDS)
	@ln -sfn v$(GATEWAY_API_VERSION) $(BIN)/gateway-api-crds/current
	@touch $@

## ---- build -----------------------------------------------------------------------------------
build: deps ts policies ## Compile TypeScript to dist/ and the Rego policies to WebAssembly

ts: deps
	@echo "==> tsc: compiling to dist/"
	$(NODE_BIN)/tsc -p tsconfig.build.json
	@# the auditors' web page is static files beside its module
	@mkdir -p dist/webhooks/audit && cp -r webhooks/audit/page dist/webhooks/audit/

# The built-in Rego policies, compiled to one WebAssembly bundle that policies/engine.ts loads. They are
# compiled against the builtins the opa-wasm SDK implements (policies/capabilities.ts), so a policy that
# would fail at evaluation fails here instead.
POLICY_OUT         := dist/policies
POLICY_SOURCES     := $(shell find policies -name '*.rego' ! -name '*_test.rego' 2>/dev/null)
POLICY_ENTRYPOINTS := tenantgate/admission/violations tenantgate/admission/policies tenantgate/access/catalog \
  tenantgate/access/allow_cidrs/decision tenantgate/access/require_headers/decision \
  tenantgate/access/methods/decision tenantgate/access/api_key/decision \
  tenantgate/access/allow_cidrs/reads tenantgate/access/require_headers/reads \
  tenantgate/access/methods/reads tenantgate/access/api_key/reads

policies: $(POLICY_OUT)/bundle.tar.gz ## Compile the Rego policies to WebAssembly (dist/policies/bundle.tar.gz)

$(POLICY_OUT)/bundle.tar.gz: $(BIN)/opa node_modules/.installed $(POLICY_SOURCES) policies/capabilities.ts policies/builtins.ts
	@echo "==> opa build -t wasm: $@"
	@mkdir -p $(POLICY_OUT)
	$(NODE) policies/capabilities.ts $(BIN)/opa > $(POLICY_OUT)/capabilities.json
	$(BIN)/opa build -t wasm --capabilities $(POLICY_OUT)/capabilities.json --ignore '*_test.rego' \
	  $(addprefix -e ,$(POLICY_ENTRYPOINTS)) -o $@ policies/

test-policies: $(BIN)/opa ## Rego policy tests (opa test) and a strict compile check
	$(BIN)/opa check --strict policies/
	$(BIN)/opa test policies/

typecheck: deps ## Type-check everything, tests included
	$(NODE_BIN)/tsc -p tsconfig.json --noEmit

generate: deps ## Regenerate config/crd/ from the schemas in api/
	$(NODE) hack/gen-crds.ts

## ---- test ------------------------------------------------------------------------------------
# The whole suite: type check, policy tests (opa test), unit, end-to-end and integration tests
# (a real kube-apiserver + etcd), and the Gateway API conformance suite against the proxy.
test: deps tools build typecheck test-policies test-vitest conformance ## Run every test

test-vitest: deps tools build
	$(NODE_BIN)/vitest run

test-unit: deps policies ## Unit tests only (no cluster; bin/opa compiles the policies they load)
	$(NODE_BIN)/vitest run --project unit

test-integration: deps tools build ## Integration tests against a real control plane
	$(NODE_BIN)/vitest run --project integration

test-e2e: deps tools build ## End-to-end tests through real processes
	$(NODE_BIN)/vitest run --project e2e

CONFORMANCE_REPORT ?= .tenantgate/conformance-report.json
conformance: deps build ## Gateway API HTTPRoute conformance (../shared/conformance) against the proxy
	@mkdir -p .tenantgate
	$(NODE) ../shared/conformance/run.mjs --report $(CONFORMANCE_REPORT)

lint: deps ## ESLint and Prettier
	$(NODE_BIN)/eslint .
	$(NODE_BIN)/prettier --check .

format: deps ## Apply Prettier
	$(NODE_BIN)/prettier --write .

## ---- benchmarks (scripts that print figures and ratios against a baseline of the same run) ----
bench: bench-tenants bench-admission bench-audit bench-proxy bench-micro ## Every benchmark (minutes; wants a quiet machine)

bench-tenants: deps tools build ## Onboard 200 tenants x 3 namespaces on a local control plane
	$(NODE) bench/tenants/onboard.ts

bench-admission: deps build ## AdmissionReviews/s, p50, p99 vs an always-allow server; audit store on vs off
	$(NODE) bench/admission/run.ts
	$(NODE) bench/admission/audit-store.ts

bench-audit: deps build ## Audit store queries over 1,000,000 records, SQLite and PostgreSQL (needs postgresql)
	$(NODE) bench/audit/query.ts

bench-proxy: deps build ## wrk: nginx vs a bare undici proxy vs tenantgate with 1,000 routes (needs nginx, wrk)
	bench/proxy/run.sh

bench-micro: deps build ## Route lookup, request normalisation, rate-limit and Rego evaluation microbenchmarks
	$(NODE) bench/proxy/normalize-micro.ts
	$(NODE) bench/ratelimit/micro.ts
	$(NODE) bench/access/micro.ts
	$(NODE) bench/admission/micro.ts

## ---- container image ---------------------------------------------------------------------
# buildah (vfs storage, chroot isolation) into the project's own storage in .tenantgate/image/, from a
# Debian base made by mmdebstrap (cached per package list); see the Dockerfile and hack/image/.
image: build ## Container image localhost/tenantgate:<version> (needs buildah, mmdebstrap)
	hack/image/build.sh

image-smoke: ## Smoke-run the image with podman: --help, and proxy --from-files answering a request
	hack/image/smoke.sh

## ---- run -------------------------------------------------------------------------------------
run: deps tools build ## tenantgate local: a local control plane with every component
	$(NODE) dist/cmd/tenantgate.js local

clean: ## Remove build outputs (keeps the tools in bin/)
	rm -rf dist .tenantgate
