# policy-overrides: only the platform team may set GEP-713 overrides. A RateLimitPolicy or AccessPolicy in
# a tenant namespace may not carry spec.overrides: an override applies to every route under a Gateway, so
# from a tenant it would reach other tenants' routes (and RBAC lets owners edit policies in their
# namespaces). Platform namespaces (no tenant) are not checked.
package tenantgate.admission.policy_overrides

import data.tenantgate.lib.tenancy

policy_kinds := {"RateLimitPolicy", "AccessPolicy"}

violation contains msg if {
	input.request.kind.group == tenancy.tenantgate_group
	input.request.kind.kind in policy_kinds
	tenancy.writing
	tenant := tenancy.request_tenant
	tenancy.obj.spec.overrides
	msg := concat("", [
		input.request.kind.kind, " ", tenancy.request_namespace, "/", tenancy.object_name,
		" sets spec.overrides in namespace '", tenancy.request_namespace, "' of tenant '", tenant,
		"', but only the platform team may override (overrides bind every route under a Gateway) — move the settings to spec.defaults",
		" (they govern your routes unless a more specific policy does), or ask the platform team for a policy in a platform namespace",
	])
}
