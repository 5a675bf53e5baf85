package tenantgate.admission.route_parent_refs_test

import data.tenantgate.admission.route_parent_refs
import data.tenantgate.testdata

check(refs) := v if {
	r := testdata.route_review(object.union(testdata.good_route_spec, {"parentRefs": refs}))
	v := route_parent_refs.violation with input as r with data.inventory as testdata.inventory
}

test_given_listener_is_accepted if {
	count(check([{"name": "shared", "namespace": "infra", "sectionName": "http"}])) == 0
}

test_gateway_given_with_every_listener_is_accepted if {
	count(check([{"name": "internal", "namespace": "infra"}, {"name": "internal", "namespace": "infra", "sectionName": "x"}])) == 0
}

test_ungranted_gateway_is_refused if {
	check([{"name": "private", "namespace": "infra"}]) == {"spec.parentRefs[0] is Gateway infra/private, which tenant 'acme' was not given — attach to one of its Gateways: infra/internal (every listener), infra/shared (listeners 'http'); or ask the platform team to add the Gateway to Tenant acme"}
}

test_gateway_defaults_to_the_route_namespace if {
	count(check([{"name": "shared"}])) == 1
}

test_ungranted_listener_is_refused if {
	check([{"name": "shared", "namespace": "infra", "sectionName": "https"}]) == {"spec.parentRefs[0] names listener 'https' of Gateway infra/shared, which tenant 'acme' was not given — use one of: 'http'"}
}

test_all_listeners_of_a_restricted_gateway_is_refused if {
	some msg in check([{"name": "shared", "namespace": "infra"}])
	contains(msg, "set sectionName")
}

test_non_gateway_parent_is_refused if {
	some msg in check([{"group": "", "kind": "Service", "name": "mesh"}])
	startswith(msg, "spec.parentRefs[0] is a Service of group ''; tenant routes attach only to Gateways")
}

test_platform_routes_may_attach_anywhere if {
	r := testdata.review({"kind": "HTTPRoute", "namespace": "infra", "object": testdata.route("infra", {"parentRefs": [{"name": "private"}]})})
	count(route_parent_refs.violation) == 0 with input as r with data.inventory as testdata.inventory
}
