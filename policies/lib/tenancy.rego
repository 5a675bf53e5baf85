# Who and what an admission request is about, read from the input (the AdmissionReview request) and the
# inventory that the engine keeps current (data.inventory; shape in docs/policies.md).
package tenantgate.lib.tenancy

gateway_group := "gateway.networking.k8s.io"

tenantgate_group := "tenantgate.io"

default tenants := {}

tenants := data.inventory.tenants

default namespace_tenants := {}

namespace_tenants := data.inventory.namespace_tenants

default namespaces := {}

namespaces := data.inventory.namespaces

default owner_index := {}

owner_index := data.inventory.owner_index

default hostname_claims := {}

hostname_claims := data.inventory.hostname_claims

default route_counts := {}

route_counts := data.inventory.route_counts

default gateway_selector_labels := []

gateway_selector_labels := data.inventory.gateway_selector_labels

request := input.request

operation := input.request.operation

obj := input.request.object

old_obj := input.request.oldObject

default user := {}

user := input.request.userInfo

# is_kind(group, kind): the request is about this group and kind (the resource the API server resolved).
is_kind(group, kind) if {
	input.request.kind.group == group
	input.request.kind.kind == kind
}

writing if operation in {"CREATE", "UPDATE"}

route_kinds := {"HTTPRoute", "GRPCRoute"}

is_route if {
	input.request.kind.group == gateway_group
	input.request.kind.kind in route_kinds
}

route_write if {
	is_route
	writing
}

# The tenant whose namespace the request's object lives in; undefined in platform namespaces, so that
# tenant rules never apply there.
request_tenant := namespace_tenants[request_namespace]

tenant_spec(name) := tenants[name].spec

# The spec of request_tenant (a rule: looked up once per review).
request_tenant_spec := tenants[request_tenant].spec

request_namespace := object.get(input.request, "namespace", "")

default object_name := ""

object_name := input.request.name if input.request.name != ""

object_name := obj.metadata.name if {
	object.get(input.request, "name", "") == ""
	obj.metadata.name
}

object_name := obj.metadata.generateName if {
	object.get(input.request, "name", "") == ""
	not obj.metadata.name
	obj.metadata.generateName
}

# "HTTPRoute acme-web/shop": how messages name the object under review.
object_ref := concat("", [input.request.kind.kind, " ", request_namespace, "/", object_name]) if request_namespace != ""

object_ref := concat("", [input.request.kind.kind, " ", object_name]) if request_namespace == ""

# The tenants whose owners include the requesting user (directly, through a group, or as one of the
# tenant's service accounts), plus those whose namespaces the user's service account lives in.
user_tenants := (by_user | by_group) | by_service_account

by_user := {t | some t in owner_index[concat(":", ["user", user.username])]}

default by_group := set()

by_group := {t | some g in user.groups; some t in owner_index[concat(":", ["group", g])]}

by_service_account := {t |
	parts := split(user.username, ":")
	count(parts) == 4
	parts[0] == "system"
	parts[1] == "serviceaccount"
	t := namespace_tenants[parts[2]]
}

is_tenant_user if count(user_tenants) > 0

# A readable list for messages: "'a', 'b'" or "(none)".
quoted_list(xs) := "(none)" if count(xs) == 0

quoted_list(xs) := concat(", ", sort([concat("", ["'", x, "'"]) | some x in xs])) if count(xs) > 0

# Tenant requests: what the change adds. On UPDATE only additions are checked, so that an existing
# conflict (made before the policy, or by the platform) never blocks unrelated edits such as finalizers.
is_tenant_write if {
	is_kind(tenantgate_group, "Tenant")
	writing
}

default old_tenant_namespaces := set()

old_tenant_namespaces := {n.name | some n in old_obj.spec.namespaces}

added_namespaces := {n.name | some n in object.get(obj.spec, "namespaces", [])} - old_tenant_namespaces

default old_tenant_hostnames := set()

old_tenant_hostnames := {h | some h in old_obj.spec.hostnames}

added_hostnames := {h | some h in object.get(obj.spec, "hostnames", [])} - old_tenant_hostnames
