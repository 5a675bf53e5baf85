package tenantgate.admission.policy_overrides_test

import data.tenantgate.admission
import data.tenantgate.admission.policy_overrides
import data.tenantgate.testdata

target := [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "shared"}]

review(kind, namespace, spec) := testdata.review({"kind": kind, "namespace": namespace, "object": {
	"apiVersion": "tenantgate.io/v1alpha1",
	"kind": kind,
	"metadata": {"name": "p", "namespace": namespace},
	"spec": spec,
}})

test_override_from_a_tenant_namespace_is_refused if {
	spec := {"targetRefs": target, "overrides": {"rule": "allow-cidrs", "parameters": {"cidrs": ["0.0.0.0/0"]}}}
	policy_overrides.violation == {"AccessPolicy acme-api/p sets spec.overrides in namespace 'acme-api' of tenant 'acme', but only the platform team may override (overrides bind every route under a Gateway) — move the settings to spec.defaults (they govern your routes unless a more specific policy does), or ask the platform team for a policy in a platform namespace"} with input as review("AccessPolicy", "acme-api", spec) with data.inventory as testdata.inventory
}

test_rate_limit_override_from_a_tenant_namespace_is_refused_through_the_entrypoint if {
	spec := {"targetRefs": target, "overrides": {"limits": [{"name": "a", "requests": 1, "unit": "Second"}]}}
	some v in admission.violations with input as review("RateLimitPolicy", "globex-web", spec) with data.inventory as testdata.inventory
	v.policy == "policy-overrides"
	startswith(v.msg, "RateLimitPolicy globex-web/p sets spec.overrides")
}

test_override_from_a_platform_namespace_is_accepted if {
	spec := {"targetRefs": target, "overrides": {"limits": [{"name": "a", "requests": 1, "unit": "Second"}]}}
	count(policy_overrides.violation) == 0 with input as review("RateLimitPolicy", "infra", spec) with data.inventory as testdata.inventory
}

test_defaults_from_a_tenant_namespace_are_accepted if {
	spec := {"targetRefs": target, "defaults": {"limits": [{"name": "a", "requests": 1, "unit": "Second"}]}}
	count(policy_overrides.violation) == 0 with input as review("RateLimitPolicy", "acme-api", spec) with data.inventory as testdata.inventory
	top := {"targetRefs": target, "rule": "methods", "parameters": {"methods": ["GET"]}}
	count(policy_overrides.violation) == 0 with input as review("AccessPolicy", "acme-api", top) with data.inventory as testdata.inventory
}
