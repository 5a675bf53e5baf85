package tenantgate.admission.route_count_test

import data.tenantgate.admission.route_count
import data.tenantgate.testdata

test_below_the_limit_is_accepted if {
	count(route_count.violation) == 0 with input as testdata.route_review(testdata.good_route_spec) with data.inventory as testdata.inventory
}

test_at_the_limit_is_refused if {
	inv := object.union(testdata.inventory, {"route_counts": {"acme": 3}})
	route_count.violation == {"tenant 'acme' already has 3 routes (HTTPRoutes + GRPCRoutes) and its limit is 3 — delete a route it no longer needs, or ask the platform team to raise spec.limits.maxRoutes of Tenant acme"} with input as testdata.route_review(testdata.good_route_spec) with data.inventory as inv
}

test_updates_do_not_count if {
	inv := object.union(testdata.inventory, {"route_counts": {"acme": 3}})
	r := testdata.review({"kind": "HTTPRoute", "operation": "UPDATE", "namespace": "acme-web", "object": testdata.route("acme-web", testdata.good_route_spec)})
	count(route_count.violation) == 0 with input as r with data.inventory as inv
}

test_tenant_without_a_limit_is_unlimited if {
	inv := json.patch(testdata.inventory, [
		{"op": "remove", "path": "/tenants/globex/spec/limits"},
		{"op": "replace", "path": "/route_counts/globex", "value": 1000},
	])
	r := testdata.review({"kind": "HTTPRoute", "namespace": "globex-web", "object": testdata.route("globex-web", {})})
	count(route_count.violation) == 0 with input as r with data.inventory as inv
}
