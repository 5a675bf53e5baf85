# tenant-overlap: two Tenants never list the same namespace or overlapping hostnames (wildcards considered).
package tenantgate.admission.tenant_overlap

import data.tenantgate.lib.hostnames
import data.tenantgate.lib.tenancy

violation contains msg if {
	tenancy.is_tenant_write
	me := tenancy.obj.metadata.name
	some ns in tenancy.added_namespaces
	some other, t in tenancy.tenants
	other != me
	some n in t.spec.namespaces
	n.name == ns
	msg := concat("", [
		"spec.namespaces: namespace '", ns, "' is already listed by tenant '", other,
		"' — a namespace belongs to one tenant; choose another name, or remove it from Tenant ", other, " first",
	])
}

violation contains msg if {
	tenancy.is_tenant_write
	me := tenancy.obj.metadata.name
	some h in tenancy.added_hostnames
	some other, t in tenancy.tenants
	other != me
	some theirs in object.get(t.spec, "hostnames", [])
	hostnames.overlap(h, theirs)
	msg := concat("", [
		"spec.hostnames: '", h, "' overlaps '", theirs, "' of tenant '", other,
		"' — two tenants may not claim the same names; narrow or remove the hostname, or remove it from Tenant ",
		other, " first",
	])
}
