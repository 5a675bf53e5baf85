# route-hostnames: a tenant's routes claim only hostnames from the Tenant's list, and always name them
# (a route without hostnames would answer for every hostname of its listeners).
package tenantgate.admission.route_hostnames

import data.tenantgate.lib.hostnames
import data.tenantgate.lib.tenancy

allowed := object.get(tenancy.request_tenant_spec, "hostnames", [])

violation contains msg if {
	tenancy.route_write
	tenant := tenancy.request_tenant
	some i, h in object.get(tenancy.obj.spec, "hostnames", [])
	not hostnames.covered(h, allowed)
	msg := concat("", [
		"spec.hostnames[", format_int(i, 10), "] '", h, "' is not among tenant '", tenant, "' hostnames (",
		tenancy.quoted_list(allowed), ") — use a hostname the tenant lists, or ask the platform team to add it to Tenant ",
		tenant,
	])
}

violation contains msg if {
	tenancy.route_write
	tenant := tenancy.request_tenant
	count(object.get(tenancy.obj.spec, "hostnames", [])) == 0
	msg := concat("", [
		"spec.hostnames is empty, so the route would answer for every hostname of its listeners — ",
		"list the hostnames it serves, from tenant '", tenant, "' hostnames (", tenancy.quoted_list(allowed), ")",
	])
}
