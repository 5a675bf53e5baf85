# tenant-namespace-ownership: a Tenant may not take over a namespace that already exists and is not owned
# by it (no owner reference to the Tenant's UID) — e.g. default, kube-system or another team's namespace.
package tenantgate.admission.tenant_namespace_ownership

import data.tenantgate.lib.tenancy

violation contains msg if {
	tenancy.is_tenant_write
	some name in tenancy.added_namespaces
	existing := tenancy.namespaces[name]
	not owned(existing)
	msg := concat("", [
		"spec.namespaces: namespace '", name, "' already exists and is not owned by tenant '", tenancy.obj.metadata.name,
		"' (no owner reference to this Tenant) — list a namespace that does not exist yet, ",
		"or ask the platform team to delete it or hand it over",
	])
}

owned(existing) if tenancy.obj.metadata.uid in object.get(existing, "tenant_owner_uids", [])
