# route-parent-refs: a tenant's routes attach only to the Gateways (and listeners) the Tenant lists.
package tenantgate.admission.route_parent_refs

import data.tenantgate.lib.tenancy

gateway_group := "gateway.networking.k8s.io"

refs contains [i, ref, ns, name] if {
	tenancy.route_write
	some i, ref in object.get(tenancy.obj.spec, "parentRefs", [])
	ns := object.get(ref, "namespace", tenancy.request_namespace)
	name := ref.name
}

is_gateway(ref) if {
	object.get(ref, "group", gateway_group) == gateway_group
	object.get(ref, "kind", "Gateway") == "Gateway"
}

given(spec, ns, name) if {
	some g in object.get(spec, "gateways", [])
	g.namespace == ns
	g.name == name
}

every_listener(spec, ns, name) if {
	some g in object.get(spec, "gateways", [])
	g.namespace == ns
	g.name == name
	count(object.get(g, "sectionNames", [])) == 0
}

listeners(spec, ns, name) := {s |
	some g in object.get(spec, "gateways", [])
	g.namespace == ns
	g.name == name
	some s in object.get(g, "sectionNames", [])
}

# "infra/shared (listeners 'http')" for each Gateway the tenant was given.
given_list(spec) := "(none)" if count(object.get(spec, "gateways", [])) == 0

given_list(spec) := concat(", ", sort([describe(g) | some g in spec.gateways])) if count(object.get(spec, "gateways", [])) > 0

describe(g) := concat("", [g.namespace, "/", g.name, " (every listener)"]) if count(object.get(g, "sectionNames", [])) == 0

describe(g) := concat("", [g.namespace, "/", g.name, " (listeners ", tenancy.quoted_list(g.sectionNames), ")"]) if {
	count(object.get(g, "sectionNames", [])) > 0
}

prefix(i) := concat("", ["spec.parentRefs[", format_int(i, 10), "]"])

violation contains msg if {
	some [i, ref, _, _] in refs
	tenant := tenancy.request_tenant
	not is_gateway(ref)
	msg := concat("", [
		prefix(i), " is a ", object.get(ref, "kind", "Gateway"), " of group '", object.get(ref, "group", gateway_group),
		"'; tenant routes attach only to Gateways — attach to one of tenant '", tenant, "' Gateways: ",
		given_list(tenancy.request_tenant_spec),
	])
}

violation contains msg if {
	some [i, ref, ns, name] in refs
	tenant := tenancy.request_tenant
	spec := tenancy.request_tenant_spec
	is_gateway(ref)
	not given(spec, ns, name)
	msg := concat("", [
		prefix(i), " is Gateway ", ns, "/", name, ", which tenant '", tenant,
		"' was not given — attach to one of its Gateways: ", given_list(spec),
		"; or ask the platform team to add the Gateway to Tenant ", tenant,
	])
}

violation contains msg if {
	some [i, ref, ns, name] in refs
	tenant := tenancy.request_tenant
	spec := tenancy.request_tenant_spec
	given(spec, ns, name)
	not every_listener(spec, ns, name)
	not ref.sectionName
	msg := concat("", [
		prefix(i), " attaches to every listener of Gateway ", ns, "/", name, ", but tenant '", tenant,
		"' may use only ", tenancy.quoted_list(listeners(spec, ns, name)), " — set sectionName to one of them",
	])
}

violation contains msg if {
	some [i, ref, ns, name] in refs
	tenant := tenancy.request_tenant
	spec := tenancy.request_tenant_spec
	given(spec, ns, name)
	not every_listener(spec, ns, name)
	ref.sectionName
	not ref.sectionName in listeners(spec, ns, name)
	msg := concat("", [
		prefix(i), " names listener '", ref.sectionName, "' of Gateway ", ns, "/", name, ", which tenant '", tenant,
		"' was not given — use one of: ", tenancy.quoted_list(listeners(spec, ns, name)),
	])
}
