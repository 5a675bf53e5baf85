package tenantgate.admission.route_hostname_conflicts_test

import data.tenantgate.admission.route_hostname_conflicts
import data.tenantgate.testdata

check(hosts) := check_with(hosts, testdata.inventory.hostname_claims)

check_with(hosts, claims) := v if {
	r := testdata.route_review(object.union(testdata.good_route_spec, {"hostnames": hosts}))
	inv := object.union(object.remove(testdata.inventory, ["hostname_claims"]), {"hostname_claims": claims})
	v := route_hostname_conflicts.violation with input as r with data.inventory as inv
}

test_unclaimed_hostname_is_accepted if {
	count(check(["new.acme.example.com"])) == 0
}

test_own_claims_do_not_conflict if {
	claims := {"www.acme.example.com": [{"tenant": "acme", "kind": "HTTPRoute", "namespace": "acme-web", "name": "www"}]}
	count(check_with(["www.acme.example.com", "*.acme.example.com"], claims)) == 0
}

test_exact_claim_of_another_tenant_is_refused if {
	check(["legacy.acme.example.com"]) == {"spec.hostnames[0] 'legacy.acme.example.com' overlaps 'legacy.acme.example.com', already claimed by HTTPRoute globex-web/legacy of tenant 'globex' — choose a hostname no other tenant serves, or ask the platform team to resolve the claim"}
}

test_wildcard_over_a_claimed_name_is_refused if {
	count(check(["*.acme.example.com"])) == 1
}

test_name_under_a_claimed_wildcard_is_refused if {
	claims := {"*.team.acme.example.com": [{"tenant": "globex", "kind": "GRPCRoute", "namespace": "globex-web", "name": "g"}]}
	v := check_with(["a.team.acme.example.com"], claims)
	count(v) == 1
}
