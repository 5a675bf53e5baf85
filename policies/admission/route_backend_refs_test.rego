package tenantgate.admission.route_backend_refs_test

import data.tenantgate.admission.route_backend_refs
import data.tenantgate.testdata

check(rules) := v if {
	r := testdata.route_review(object.union(testdata.good_route_spec, {"rules": rules}))
	v := route_backend_refs.violation with input as r with data.inventory as testdata.inventory
}

test_services_in_tenant_namespaces_are_accepted if {
	count(check(testdata.good_route_spec.rules)) == 0
}

test_service_of_another_tenant_is_refused if {
	check([{"backendRefs": [{"name": "shop", "port": 80}, {"name": "billing", "namespace": "globex-web", "port": 80}]}]) == {"spec.rules[0].backendRefs[1] is Service globex-web/billing, in namespace 'globex-web' of tenant 'globex', not one of tenant 'acme' namespaces — use a Service in 'acme-api', 'acme-web'"}
}

test_service_in_a_platform_namespace_is_refused if {
	check([{"backendRefs": [{"name": "kube-dns", "namespace": "kube-system", "port": 53}]}]) == {"spec.rules[0].backendRefs[0] is Service kube-system/kube-dns, in namespace 'kube-system', not one of tenant 'acme' namespaces — use a Service in 'acme-api', 'acme-web'"}
}

test_mirror_to_a_foreign_service_is_refused if {
	rules := [{
		"filters": [{"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "spy", "namespace": "globex-web", "port": 80}}}],
		"backendRefs": [{"name": "shop", "port": 80, "filters": [{"type": "RequestMirror", "requestMirror": {"backendRef": {"name": "spy2", "namespace": "default", "port": 80}}}]}],
	}]
	v := check(rules)
	count(v) == 2
	some a in v
	startswith(a, "spec.rules[0].filters[0].requestMirror.backendRef is Service globex-web/spy")
	some b in v
	startswith(b, "spec.rules[0].backendRefs[0].filters[0].requestMirror.backendRef is Service default/spy2")
}

test_non_service_backend_is_refused if {
	some msg in check([{"backendRefs": [{"group": "example.io", "kind": "Bucket", "name": "b"}]}])
	startswith(msg, "spec.rules[0].backendRefs[0] is a Bucket of group 'example.io'; tenant routes may send traffic only to Services")
}
