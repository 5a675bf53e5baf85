package tenantgate.admission_test

import data.tenantgate.access
import data.tenantgate.admission
import data.tenantgate.testdata

test_good_route_has_no_violations if {
	count(admission.violations) == 0 with input as testdata.route_review(testdata.good_route_spec)
		with data.inventory as testdata.inventory
		with data.access_rules as access.catalog
}

test_violations_name_their_policy if {
	spec := object.union(testdata.good_route_spec, {
		"hostnames": ["shop.globex.example.com"],
		"parentRefs": [{"name": "private", "namespace": "infra"}],
	})
	v := admission.violations with input as testdata.route_review(spec)
		with data.inventory as testdata.inventory
		with data.access_rules as access.catalog
	{p.policy | some p in v} == {"route-hostnames", "route-hostname-conflicts", "route-parent-refs"}
}

test_every_policy_is_listed if {
	count(admission.policies) == 13
}

test_works_without_inventory if {
	# before the first informer sync: no tenants known, so no tenant rule applies, and nothing fails
	count(admission.violations) == 0 with input as testdata.route_review(testdata.good_route_spec)
}
