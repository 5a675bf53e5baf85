package tenantgate.admission.owners_test

import data.tenantgate.admission.platform_labels
import data.tenantgate.admission.reference_grant_owners
import data.tenantgate.testdata

grant(user, op) := testdata.review({"kind": "ReferenceGrant", "operation": op, "namespace": "acme-api", "user": user, "object": {
	"apiVersion": "gateway.networking.k8s.io/v1beta1",
	"kind": "ReferenceGrant",
	"metadata": {"name": "allow-all", "namespace": "acme-api"},
	"spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "globex-web"}], "to": [{"group": "", "kind": "Service"}]},
}})

test_owner_creating_a_reference_grant_is_refused if {
	reference_grant_owners.violation == {"user 'alice' acts for tenant 'acme', and ReferenceGrants are managed by the platform (the Tenant controller grants references across a tenant's own namespaces) — leave ReferenceGrants out of your change; ask the platform team if a route needs another cross-namespace reference"} with input as grant(testdata.alice, "CREATE") with data.inventory as testdata.inventory
}

test_owner_through_a_group_is_refused if {
	count(reference_grant_owners.violation) == 1 with input as grant(testdata.carol, "UPDATE") with data.inventory as testdata.inventory
}

test_tenant_service_account_is_refused if {
	sa := {"username": "system:serviceaccount:acme-api:ci", "groups": ["system:serviceaccounts"]}
	count(reference_grant_owners.violation) == 1 with input as grant(sa, "DELETE") with data.inventory as testdata.inventory
}

test_platform_may_manage_reference_grants if {
	count(reference_grant_owners.violation) == 0 with input as grant(testdata.admin, "CREATE") with data.inventory as testdata.inventory
	operator := {"username": "system:serviceaccount:tenantgate-system:tenantgate"}
	count(reference_grant_owners.violation) == 0 with input as grant(operator, "CREATE") with data.inventory as testdata.inventory
}

namespace(labels) := {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "acme-web", "labels": labels}}

relabel(user, old, new) := testdata.review({"kind": "Namespace", "operation": "UPDATE", "user": user, "object": namespace(new), "oldObject": namespace(old)})

web_labels := testdata.inventory.namespaces["acme-web"].labels

test_owner_changing_the_tenant_label_is_refused if {
	r := relabel(testdata.alice, web_labels, object.union(web_labels, {"tenantgate.io/tenant": "globex"}))
	platform_labels.violation == {"metadata.labels['tenantgate.io/tenant'] of namespace 'acme-web' is owned by the platform — keep its value 'acme'; ask the platform team to change the Tenant instead"} with input as r with data.inventory as testdata.inventory
}

test_owner_removing_the_gateway_selector_label_is_refused if {
	r := relabel(testdata.alice, web_labels, object.remove(web_labels, ["gateway-access"]))
	count(platform_labels.violation) == 1 with input as r with data.inventory as testdata.inventory
}

test_owner_adding_a_gateway_selector_label_is_refused if {
	r := relabel(testdata.carol, object.remove(web_labels, ["gateway-access"]), web_labels)
	platform_labels.violation == {"metadata.labels['gateway-access'] of namespace 'acme-web' is owned by the platform — remove it again; ask the platform team to change the Tenant instead"} with input as r with data.inventory as testdata.inventory
}

test_owner_changing_a_tenant_spec_label_is_refused if {
	r := relabel(testdata.alice, web_labels, object.union(web_labels, {"team": "api"}))
	count(platform_labels.violation) == 1 with input as r with data.inventory as testdata.inventory
}

test_owner_changing_other_labels_is_accepted if {
	r := relabel(testdata.alice, web_labels, object.union(web_labels, {"cost-center": "42"}))
	count(platform_labels.violation) == 0 with input as r with data.inventory as testdata.inventory
}

test_platform_may_change_platform_labels if {
	r := relabel(testdata.admin, web_labels, object.union(web_labels, {"tenantgate.io/tenant": "globex"}))
	count(platform_labels.violation) == 0 with input as r with data.inventory as testdata.inventory
}
