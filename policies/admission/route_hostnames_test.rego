package tenantgate.admission.route_hostnames_test

import data.tenantgate.admission.route_hostnames
import data.tenantgate.testdata

test_hostnames_in_the_list_are_accepted if {
	spec := object.union(testdata.good_route_spec, {"hostnames": ["acme.example.com", "a.b.acme.example.com", "*.api.acme.example.com"]})
	count(route_hostnames.violation) == 0 with input as testdata.route_review(spec) with data.inventory as testdata.inventory
}

test_foreign_hostname_is_refused if {
	spec := object.union(testdata.good_route_spec, {"hostnames": ["shop.acme.example.com", "shop.globex.example.com"]})
	route_hostnames.violation == {"spec.hostnames[1] 'shop.globex.example.com' is not among tenant 'acme' hostnames ('*.acme.example.com', 'acme.example.com') — use a hostname the tenant lists, or ask the platform team to add it to Tenant acme"} with input as testdata.route_review(spec) with data.inventory as testdata.inventory
}

test_wider_wildcard_is_refused if {
	spec := object.union(testdata.good_route_spec, {"hostnames": ["*.example.com"]})
	count(route_hostnames.violation) == 1 with input as testdata.route_review(spec) with data.inventory as testdata.inventory
}

test_missing_hostnames_are_refused if {
	spec := object.remove(testdata.good_route_spec, ["hostnames"])
	some msg in route_hostnames.violation with input as testdata.route_review(spec) with data.inventory as testdata.inventory
	startswith(msg, "spec.hostnames is empty")
}

test_platform_namespaces_are_not_checked if {
	r := testdata.review({"kind": "HTTPRoute", "namespace": "infra", "object": testdata.route("infra", {"hostnames": ["anything.example.org"]})})
	count(route_hostnames.violation) == 0 with input as r with data.inventory as testdata.inventory
}

test_grpc_routes_are_checked if {
	obj := object.union(testdata.route("acme-api", testdata.good_route_spec), {"kind": "GRPCRoute", "spec": {"hostnames": ["grpc.example.net"]}})
	r := testdata.review({"kind": "GRPCRoute", "namespace": "acme-api", "object": obj})
	count(route_hostnames.violation) == 1 with input as r with data.inventory as testdata.inventory
}

test_deletes_are_not_checked if {
	spec := object.union(testdata.good_route_spec, {"hostnames": ["x.example.org"]})
	r := testdata.review({"kind": "HTTPRoute", "operation": "DELETE", "namespace": "acme-web", "object": testdata.route("acme-web", spec)})
	count(route_hostnames.violation) == 0 with input as r with data.inventory as testdata.inventory
}
