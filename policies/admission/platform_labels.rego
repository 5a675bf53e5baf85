# platform-labels: tenant owners do not change the labels the platform owns on namespaces: the tenant label,
# the labels shared Gateways select routes' namespaces by (allowedRoutes), and the labels the Tenant sets.
package tenantgate.admission.platform_labels

import data.tenantgate.lib.tenancy

tenant_label := "tenantgate.io/tenant"

# Labels the Tenant spec asks the reconciler to put on this namespace.
tenant_spec_labels contains key if {
	tenant := tenancy.namespace_tenants[tenancy.obj.metadata.name]
	some n in tenancy.tenant_spec(tenant).namespaces
	n.name == tenancy.obj.metadata.name
	some key, _ in object.get(n, "labels", {})
}

platform_keys := ({tenant_label} | {k | some k in tenancy.gateway_selector_labels}) | tenant_spec_labels

violation contains msg if {
	tenancy.is_kind("", "Namespace")
	tenancy.operation == "UPDATE"
	tenancy.is_tenant_user
	some key in platform_keys
	before := object.get(object.get(tenancy.old_obj.metadata, "labels", {}), key, null)
	after := object.get(object.get(tenancy.obj.metadata, "labels", {}), key, null)
	before != after
	msg := concat("", [
		"metadata.labels['", key, "'] of namespace '", tenancy.obj.metadata.name,
		"' is owned by the platform — ", restore(before), "; ask the platform team to change the Tenant instead",
	])
}

restore(null) := "remove it again"

restore(v) := concat("", ["keep its value '", v, "'"]) if v != null
