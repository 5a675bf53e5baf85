# route-backend-refs: a tenant's routes send traffic (and mirrored traffic) only to Services in the
# tenant's own namespaces.
package tenantgate.admission.route_backend_refs

import data.tenantgate.lib.tenancy

# [where, backendRef] for every backend of the route: rule backends, and requestMirror filters on rules
# and on backends. `where` holds indices; the path string is only made for a violation's message.
backends contains [["r", i, j], ref] if {
	some i, rule in object.get(tenancy.obj.spec, "rules", [])
	some j, ref in object.get(rule, "backendRefs", [])
}

backends contains [["rf", i, k], ref] if {
	some i, rule in object.get(tenancy.obj.spec, "rules", [])
	some k, filter in object.get(rule, "filters", [])
	ref := filter.requestMirror.backendRef
}

backends contains [["bf", i, j, k], ref] if {
	some i, rule in object.get(tenancy.obj.spec, "rules", [])
	some j, backend in object.get(rule, "backendRefs", [])
	some k, filter in object.get(backend, "filters", [])
	ref := filter.requestMirror.backendRef
}

path(["r", i, j]) := concat("", ["spec.rules[", format_int(i, 10), "].backendRefs[", format_int(j, 10), "]"])

path(["rf", i, k]) := concat("", ["spec.rules[", format_int(i, 10), "].filters[", format_int(k, 10), "].requestMirror.backendRef"])

path(["bf", i, j, k]) := concat("", [
	"spec.rules[", format_int(i, 10), "].backendRefs[", format_int(j, 10), "].filters[", format_int(k, 10),
	"].requestMirror.backendRef",
])

is_service(ref) if {
	object.get(ref, "group", "") in {"", "core"}
	object.get(ref, "kind", "Service") == "Service"
}

# the namespaces of the request's tenant (a rule, so it is computed once per review)
tenant_namespaces := {n.name | some n in tenancy.request_tenant_spec.namespaces}

violation contains msg if {
	tenancy.route_write
	tenant := tenancy.request_tenant
	some [where, ref] in backends
	not is_service(ref)
	msg := concat("", [
		path(where), " is a ", object.get(ref, "kind", "Service"), " of group '", object.get(ref, "group", ""),
		"'; tenant routes may send traffic only to Services — point it at a Service in one of tenant '", tenant,
		"' namespaces (", tenancy.quoted_list(tenant_namespaces), ")",
	])
}

violation contains msg if {
	tenancy.route_write
	tenant := tenancy.request_tenant
	some [where, ref] in backends
	is_service(ref)
	ns := object.get(ref, "namespace", tenancy.request_namespace)
	not ns in tenant_namespaces
	msg := concat("", [
		path(where), " is Service ", ns, "/", ref.name, ", in namespace '", ns, "'", owner_note(ns),
		", not one of tenant '", tenant, "' namespaces — use a Service in ",
		tenancy.quoted_list(tenant_namespaces),
	])
}

owner_note(ns) := concat("", [" of tenant '", tenancy.namespace_tenants[ns], "'"]) if tenancy.namespace_tenants[ns]

default owner_note(_) := ""
