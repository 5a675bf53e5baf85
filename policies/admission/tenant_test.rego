package tenantgate.admission.tenant_test

import data.tenantgate.admission.tenant_namespace_ownership
import data.tenantgate.admission.tenant_overlap
import data.tenantgate.testdata

tenant(name, uid, spec) := {
	"apiVersion": "tenantgate.io/v1alpha1",
	"kind": "Tenant",
	"metadata": {"name": name, "uid": uid},
	"spec": spec,
}

create(spec) := testdata.review({"kind": "Tenant", "user": testdata.admin, "object": tenant("initech", "uid-initech", spec)})

test_disjoint_tenant_is_accepted if {
	r := create({"namespaces": [{"name": "initech-web"}], "hostnames": ["initech.example.com", "*.initech.example.com"]})
	count(tenant_overlap.violation) == 0 with input as r with data.inventory as testdata.inventory
	count(tenant_namespace_ownership.violation) == 0 with input as r with data.inventory as testdata.inventory
}

test_shared_namespace_is_refused_naming_both_tenants if {
	r := create({"namespaces": [{"name": "initech-web"}, {"name": "globex-web"}]})
	tenant_overlap.violation == {"spec.namespaces: namespace 'globex-web' is already listed by tenant 'globex' — a namespace belongs to one tenant; choose another name, or remove it from Tenant globex first"} with input as r with data.inventory as testdata.inventory
}

test_overlapping_hostnames_are_refused if {
	r := create({"namespaces": [{"name": "initech-web"}], "hostnames": ["*.example.com"]})
	v := tenant_overlap.violation with input as r with data.inventory as testdata.inventory
	count(v) == 4 # each of acme's and globex's two names
	r2 := create({"namespaces": [{"name": "initech-web"}], "hostnames": ["api.acme.example.com"]})
	tenant_overlap.violation == {"spec.hostnames: 'api.acme.example.com' overlaps '*.acme.example.com' of tenant 'acme' — two tenants may not claim the same names; narrow or remove the hostname, or remove it from Tenant acme first"} with input as r2 with data.inventory as testdata.inventory
}

test_updating_itself_is_not_an_overlap if {
	spec := testdata.inventory.tenants.acme.spec
	r := testdata.review({"kind": "Tenant", "operation": "UPDATE", "user": testdata.admin, "object": tenant("acme", "uid-acme", spec), "oldObject": tenant("acme", "uid-acme", spec)})
	count(tenant_overlap.violation) == 0 with input as r with data.inventory as testdata.inventory
	count(tenant_namespace_ownership.violation) == 0 with input as r with data.inventory as testdata.inventory
}

test_update_checks_only_additions if {
	old := {"namespaces": [{"name": "initech-web"}, {"name": "globex-web"}]}
	new := {"namespaces": [{"name": "initech-web"}, {"name": "globex-web"}, {"name": "acme-api"}]}
	r := testdata.review({"kind": "Tenant", "operation": "UPDATE", "user": testdata.admin, "object": tenant("initech", "u", new), "oldObject": tenant("initech", "u", old)})
	v := tenant_overlap.violation with input as r with data.inventory as testdata.inventory
	count(v) == 1
	some msg in v
	contains(msg, "'acme-api' is already listed by tenant 'acme'")
}

test_existing_unowned_namespace_is_refused if {
	r := create({"namespaces": [{"name": "default"}]})
	tenant_namespace_ownership.violation == {"spec.namespaces: namespace 'default' already exists and is not owned by tenant 'initech' (no owner reference to this Tenant) — list a namespace that does not exist yet, or ask the platform team to delete it or hand it over (annotation tenantgate.io/adopt-by: initech)"} with input as r with data.inventory as testdata.inventory
}

test_namespace_owned_by_another_tenant_is_refused if {
	r := create({"namespaces": [{"name": "acme-web"}]})
	count(tenant_namespace_ownership.violation) == 1 with input as r with data.inventory as testdata.inventory
}

test_own_namespace_added_back_is_accepted if {
	old := {"namespaces": [{"name": "acme-web"}]}
	new := {"namespaces": [{"name": "acme-web"}, {"name": "acme-api"}]}
	r := testdata.review({"kind": "Tenant", "operation": "UPDATE", "user": testdata.admin, "object": tenant("acme", "uid-acme", new), "oldObject": tenant("acme", "uid-acme", old)})
	count(tenant_namespace_ownership.violation) == 0 with input as r with data.inventory as testdata.inventory
}

test_namespace_handed_over_by_annotation_is_accepted if {
	r := create({"namespaces": [{"name": "legacy"}]})
	inv := object.union(testdata.inventory, {"namespaces": {"legacy": {"labels": {}, "tenant_owner_uids": [], "adopt_by": "initech"}}})
	count(tenant_namespace_ownership.violation) == 0 with input as r with data.inventory as inv
}

test_namespace_handed_to_another_tenant_is_refused if {
	r := create({"namespaces": [{"name": "legacy"}]})
	inv := object.union(testdata.inventory, {"namespaces": {"legacy": {"labels": {}, "tenant_owner_uids": [], "adopt_by": "globex"}}})
	count(tenant_namespace_ownership.violation) == 1 with input as r with data.inventory as inv
}

test_annotation_does_not_hand_over_a_tenant_owned_namespace if {
	r := create({"namespaces": [{"name": "legacy"}]})
	inv := object.union(testdata.inventory, {"namespaces": {"legacy": {"labels": {}, "tenant_owner_uids": ["uid-old"], "adopt_by": "initech"}}})
	count(tenant_namespace_ownership.violation) == 1 with input as r with data.inventory as inv
}
