# tenant-namespace-ownership: a Tenant may not take over a namespace that already exists and is not owned
# by it (no owner reference to the Tenant's UID) — e.g. default, kube-system or another team's namespace —
# unless a platform admin handed it over: annotated tenantgate.io/adopt-by: <this tenant> and owned by no
# Tenant (the operator then adopts it).
package tenantgate.admission.tenant_namespace_ownership

import data.tenantgate.lib.tenancy

violation contains msg if {
	tenancy.is_tenant_write
	some name in tenancy.added_namespaces
	existing := tenancy.namespaces[name]
	not owned(existing)
	not handed_over(existing)
	msg := concat("", [
		"spec.namespaces: namespace '", name, "' already exists and is not owned by tenant '", tenancy.obj.metadata.name,
		"' (no owner reference to this Tenant) — list a namespace that does not exist yet, ",
		"or ask the platform team to delete it or hand it over (annotation tenantgate.io/adopt-by: ", tenancy.obj.metadata.name, ")",
	])
}

handed_over(existing) if {
	existing.adopt_by == tenancy.obj.metadata.name
	count(object.get(existing, "tenant_owner_uids", [])) == 0
}

owned(existing) if tenancy.obj.metadata.uid in object.get(existing, "tenant_owner_uids", [])
