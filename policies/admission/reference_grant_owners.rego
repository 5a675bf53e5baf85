# reference-grant-owners: tenant owners (and their workloads' service accounts) do not create, change or
# delete ReferenceGrants; the Tenant reconciler makes the grants a tenant needs (across its own
# namespaces), and a tenant-made grant could open its Services to, or reach into, another tenant.
package tenantgate.admission.reference_grant_owners

import data.tenantgate.lib.tenancy

violation contains msg if {
	tenancy.is_kind(tenancy.gateway_group, "ReferenceGrant")
	tenancy.is_tenant_user
	msg := concat("", [
		"user '", tenancy.user.username, "' acts for tenant ", tenancy.quoted_list(tenancy.user_tenants),
		", and ReferenceGrants are managed by the platform (the Tenant controller grants references across a tenant's own namespaces)",
		" — leave ReferenceGrants out of your change; ask the platform team if a route needs another cross-namespace reference",
	])
}
