package tenantgate.admission.policy_target_namespace_test

import data.tenantgate.admission.policy_target_namespace
import data.tenantgate.testdata

policy(kind, refs) := testdata.review({"kind": kind, "namespace": "acme-api", "object": {
	"kind": kind,
	"metadata": {"name": "p", "namespace": "acme-api"},
	"spec": {"targetRefs": refs},
}})

test_local_targets_are_accepted if {
	refs := [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "api"}, {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "b", "namespace": "acme-api"}]
	count(policy_target_namespace.violation) == 0 with input as policy("RateLimitPolicy", refs)
}

test_foreign_target_is_refused if {
	refs := [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "shared", "namespace": "infra"}]
	policy_target_namespace.violation == {"spec.targetRefs[0] points into namespace 'infra', but a RateLimitPolicy applies only to Gateways and routes in its own namespace ('acme-api') — remove targetRefs[0].namespace, or create the policy in namespace 'infra'"} with input as policy("RateLimitPolicy", refs)
	count(policy_target_namespace.violation) == 1 with input as policy("AccessPolicy", refs)
}
