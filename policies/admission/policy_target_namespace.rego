# policy-target-namespace: a RateLimitPolicy or AccessPolicy attaches only to Gateways and routes in its
# own namespace (Gateway API local policy attachment), so one namespace's policy never shapes another's
# traffic. The CRD has no targetRefs[].namespace; this also covers offline checks and custom CRD versions.
package tenantgate.admission.policy_target_namespace

import data.tenantgate.lib.tenancy

policy_kinds := {"RateLimitPolicy", "AccessPolicy"}

violation contains msg if {
	input.request.kind.group == tenancy.tenantgate_group
	input.request.kind.kind in policy_kinds
	tenancy.writing
	some i, ref in object.get(tenancy.obj.spec, "targetRefs", [])
	ref.namespace != tenancy.request_namespace
	msg := concat("", [
		"spec.targetRefs[", format_int(i, 10), "] points into namespace '", ref.namespace, "', but a ",
		input.request.kind.kind, " applies only to Gateways and routes in its own namespace ('",
		tenancy.request_namespace, "') — remove targetRefs[", format_int(i, 10), "].namespace, or create the policy in namespace '",
		ref.namespace, "'",
	])
}
