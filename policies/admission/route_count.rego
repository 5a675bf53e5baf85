# route-count: a tenant has at most spec.limits.maxRoutes HTTPRoutes + GRPCRoutes across its namespaces.
# Only creations count; updates of existing routes never hit the limit.
package tenantgate.admission.route_count

import data.tenantgate.lib.tenancy

violation contains msg if {
	tenancy.is_route
	tenancy.operation == "CREATE"
	tenant := tenancy.request_tenant
	limit := tenancy.request_tenant_spec.limits.maxRoutes
	existing := object.get(tenancy.route_counts, tenant, 0)
	existing >= limit
	msg := concat("", [
		"tenant '", tenant, "' already has ", format_int(existing, 10), " routes (HTTPRoutes + GRPCRoutes) and its limit is ",
		format_int(limit, 10), " — delete a route it no longer needs, or ask the platform team to raise spec.limits.maxRoutes of Tenant ",
		tenant,
	])
}
