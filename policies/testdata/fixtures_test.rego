# Shared fixtures for the admission policy tests: an inventory with two tenants (acme, globex) and a
# builder for AdmissionReview requests. The file ends in _test.rego so that `opa build` leaves it out.
# Its inventory has the shape that policies/inventory.ts builds (inventory.test.ts checks the same shape).
package tenantgate.testdata

inventory := {
	"tenants": {
		"acme": {"uid": "uid-acme", "spec": {
			"owners": [
				{"kind": "Group", "name": "acme-devs"},
				{"kind": "User", "name": "alice"},
				{"kind": "ServiceAccount", "name": "deployer", "namespace": "acme-web"},
			],
			"namespaces": [{"name": "acme-web", "labels": {"team": "web"}}, {"name": "acme-api"}],
			"gateways": [
				{"name": "shared", "namespace": "infra", "sectionNames": ["http"]},
				{"name": "internal", "namespace": "infra"},
			],
			"hostnames": ["acme.example.com", "*.acme.example.com"],
			"limits": {"maxRoutes": 3, "rateLimit": {"requests": 1000, "unit": "Second"}},
		}},
		"globex": {"uid": "uid-globex", "spec": {
			"owners": [{"kind": "User", "name": "bob"}],
			"namespaces": [{"name": "globex-web"}],
			"gateways": [{"name": "shared", "namespace": "infra", "sectionNames": ["https"]}],
			"hostnames": ["globex.example.com", "*.globex.example.com"],
			"limits": {"maxRoutes": 10},
		}},
	},
	"namespace_tenants": {"acme-web": "acme", "acme-api": "acme", "globex-web": "globex"},
	"namespaces": {
		"acme-web": {"labels": {"tenantgate.io/tenant": "acme", "team": "web", "gateway-access": "shared"}, "tenant_owner_uids": ["uid-acme"]},
		"acme-api": {"labels": {"tenantgate.io/tenant": "acme", "gateway-access": "shared"}, "tenant_owner_uids": ["uid-acme"]},
		"globex-web": {"labels": {"tenantgate.io/tenant": "globex"}, "tenant_owner_uids": ["uid-globex"]},
		"default": {"labels": {}, "tenant_owner_uids": []},
		"infra": {"labels": {}, "tenant_owner_uids": []},
	},
	"owner_index": {
		"group:acme-devs": ["acme"],
		"user:alice": ["acme"],
		"user:system:serviceaccount:acme-web:deployer": ["acme"],
		"user:bob": ["globex"],
	},
	"hostname_claims": {
		"shop.globex.example.com": [{"tenant": "globex", "kind": "HTTPRoute", "namespace": "globex-web", "name": "shop"}],
		"legacy.acme.example.com": [{"tenant": "globex", "kind": "HTTPRoute", "namespace": "globex-web", "name": "legacy"}],
		"www.acme.example.com": [{"tenant": "acme", "kind": "HTTPRoute", "namespace": "acme-web", "name": "www"}],
	},
	"route_counts": {"acme": 2, "globex": 2},
	"gateway_selector_labels": ["gateway-access"],
}

alice := {"username": "alice", "groups": ["system:authenticated"]}

carol := {"username": "carol", "groups": ["acme-devs", "system:authenticated"]}

admin := {"username": "platform-admin", "groups": ["system:masters"]}

gvk := {
	"HTTPRoute": {"group": "gateway.networking.k8s.io", "version": "v1", "kind": "HTTPRoute"},
	"GRPCRoute": {"group": "gateway.networking.k8s.io", "version": "v1", "kind": "GRPCRoute"},
	"ReferenceGrant": {"group": "gateway.networking.k8s.io", "version": "v1beta1", "kind": "ReferenceGrant"},
	"RateLimitPolicy": {"group": "tenantgate.io", "version": "v1alpha1", "kind": "RateLimitPolicy"},
	"AccessPolicy": {"group": "tenantgate.io", "version": "v1alpha1", "kind": "AccessPolicy"},
	"Tenant": {"group": "tenantgate.io", "version": "v1alpha1", "kind": "Tenant"},
	"Namespace": {"group": "", "version": "v1", "kind": "Namespace"},
}

# review(r): an AdmissionReview request input from {kind, operation, namespace, object, oldObject, user}.
review(r) := {"request": {
	"uid": "00000000-0000-0000-0000-000000000001",
	"kind": gvk[r.kind],
	"operation": object.get(r, "operation", "CREATE"),
	"namespace": object.get(r, "namespace", ""),
	"name": object.get(r, "name", r.object.metadata.name),
	"object": r.object,
	"oldObject": object.get(r, "oldObject", null),
	"userInfo": object.get(r, "user", alice),
}}

# route(ns, spec): an HTTPRoute named "shop" in namespace ns.
route(ns, spec) := {
	"apiVersion": "gateway.networking.k8s.io/v1",
	"kind": "HTTPRoute",
	"metadata": {"name": "shop", "namespace": ns},
	"spec": spec,
}

# A route of acme that every route policy accepts.
good_route_spec := {
	"parentRefs": [{"name": "shared", "namespace": "infra", "sectionName": "http"}],
	"hostnames": ["shop.acme.example.com"],
	"rules": [{"backendRefs": [{"name": "shop", "port": 80}, {"name": "api", "namespace": "acme-api", "port": 8080}]}],
}

route_review(spec) := review({"kind": "HTTPRoute", "namespace": "acme-web", "object": route("acme-web", spec)})
