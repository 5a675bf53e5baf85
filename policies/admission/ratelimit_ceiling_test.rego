package tenantgate.admission.ratelimit_ceiling_test

import data.tenantgate.admission.ratelimit_ceiling
import data.tenantgate.testdata

policy(limits) := testdata.review({"kind": "RateLimitPolicy", "namespace": "acme-api", "object": {
	"apiVersion": "tenantgate.io/v1alpha1",
	"kind": "RateLimitPolicy",
	"metadata": {"name": "per-client", "namespace": "acme-api"},
	"spec": {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "api"}], "limits": limits},
}})

test_limits_within_the_ceiling_are_accepted if {
	limits := [
		{"name": "a", "requests": 1000, "unit": "Second"},
		{"name": "b", "requests": 60000, "unit": "Minute"},
		{"name": "c", "requests": 5, "unit": "Day"},
	]
	count(ratelimit_ceiling.violation) == 0 with input as policy(limits) with data.inventory as testdata.inventory
}

test_limit_above_the_ceiling_is_refused if {
	limits := [{"name": "ok", "requests": 10, "unit": "Second"}, {"name": "per-key", "requests": 60001, "unit": "Minute"}]
	ratelimit_ceiling.violation == {"spec.limits[1] ('per-key') allows 60001 requests per Minute, above tenant 'acme' ceiling of 1000 per Second — lower requests to at most 60000 per Minute, or ask the platform team to raise spec.limits.rateLimit of Tenant acme"} with input as policy(limits) with data.inventory as testdata.inventory
}

test_ceiling_in_a_coarser_unit if {
	inv := json.patch(testdata.inventory, [{"op": "replace", "path": "/tenants/acme/spec/limits/rateLimit", "value": {"requests": 100, "unit": "Minute"}}])
	count(ratelimit_ceiling.violation) == 1 with input as policy([{"name": "x", "requests": 2, "unit": "Second"}]) with data.inventory as inv
	count(ratelimit_ceiling.violation) == 0 with input as policy([{"name": "x", "requests": 1, "unit": "Second"}]) with data.inventory as inv
}

test_tenant_without_a_ceiling_is_not_limited if {
	r := testdata.review({"kind": "RateLimitPolicy", "namespace": "globex-web", "object": {"metadata": {"name": "p"}, "spec": {"limits": [{"name": "x", "requests": 1000000, "unit": "Second"}]}}})
	count(ratelimit_ceiling.violation) == 0 with input as r with data.inventory as testdata.inventory
}

test_limits_under_defaults_and_overrides_are_checked if {
	r := testdata.review({"kind": "RateLimitPolicy", "namespace": "acme-api", "object": {"metadata": {"name": "p"}, "spec": {
		"defaults": {"limits": [{"name": "d", "requests": 1001, "unit": "Second"}]},
		"overrides": {"limits": [{"name": "o", "requests": 5, "unit": "Second"}, {"name": "big", "requests": 2000, "unit": "Second"}]},
	}}})
	ratelimit_ceiling.violation == {
		"spec.defaults.limits[0] ('d') allows 1001 requests per Second, above tenant 'acme' ceiling of 1000 per Second — lower requests to at most 1000 per Second, or ask the platform team to raise spec.limits.rateLimit of Tenant acme",
		"spec.overrides.limits[1] ('big') allows 2000 requests per Second, above tenant 'acme' ceiling of 1000 per Second — lower requests to at most 1000 per Second, or ask the platform team to raise spec.limits.rateLimit of Tenant acme",
	} with input as r with data.inventory as testdata.inventory
}
