# The admission entrypoint: every violation of every built-in policy, as {"policy", "msg"}. The engine
# applies each policy's enforcement action (deny, warn, dryrun) that the platform team configured. A custom
# bundle provides the same entrypoint (tenantgate/admission/violations) for its own policies.
package tenantgate.admission

import data.tenantgate.admission.access_policy_rule
import data.tenantgate.admission.platform_labels
import data.tenantgate.admission.policy_overrides
import data.tenantgate.admission.policy_target_namespace
import data.tenantgate.admission.ratelimit_ceiling
import data.tenantgate.admission.reference_grant_owners
import data.tenantgate.admission.route_backend_refs
import data.tenantgate.admission.route_count
import data.tenantgate.admission.route_hostname_conflicts
import data.tenantgate.admission.route_hostnames
import data.tenantgate.admission.route_parent_refs
import data.tenantgate.admission.tenant_namespace_ownership
import data.tenantgate.admission.tenant_overlap
import data.tenantgate.lib.tenancy

# Each kind is checked only by the policies that look at it: the planner then skips the others outright,
# which halves the cost of a review (bench/admission/micro.ts).
violations contains v if {
	tenancy.is_route
	some v in route_violations
}

violations contains v if {
	tenancy.is_kind(tenancy.tenantgate_group, "RateLimitPolicy")
	some v in rate_limit_policy_violations
}

violations contains v if {
	tenancy.is_kind(tenancy.tenantgate_group, "AccessPolicy")
	some v in access_policy_violations
}

violations contains v if {
	tenancy.is_kind(tenancy.tenantgate_group, "Tenant")
	some v in tenant_violations
}

violations contains {"policy": "reference-grant-owners", "msg": msg} if {
	tenancy.is_kind(tenancy.gateway_group, "ReferenceGrant")
	some msg in reference_grant_owners.violation
}

violations contains {"policy": "platform-labels", "msg": msg} if {
	tenancy.is_kind("", "Namespace")
	some msg in platform_labels.violation
}

route_violations contains {"policy": "route-hostnames", "msg": msg} if some msg in route_hostnames.violation

route_violations contains {"policy": "route-hostname-conflicts", "msg": msg} if some msg in route_hostname_conflicts.violation

route_violations contains {"policy": "route-parent-refs", "msg": msg} if some msg in route_parent_refs.violation

route_violations contains {"policy": "route-backend-refs", "msg": msg} if some msg in route_backend_refs.violation

route_violations contains {"policy": "route-count", "msg": msg} if some msg in route_count.violation

rate_limit_policy_violations contains {"policy": "ratelimit-ceiling", "msg": msg} if some msg in ratelimit_ceiling.violation

rate_limit_policy_violations contains {"policy": "policy-target-namespace", "msg": msg} if some msg in policy_target_namespace.violation

rate_limit_policy_violations contains {"policy": "policy-overrides", "msg": msg} if some msg in policy_overrides.violation

access_policy_violations contains {"policy": "access-policy-rule", "msg": msg} if some msg in access_policy_rule.violation

access_policy_violations contains {"policy": "policy-overrides", "msg": msg} if some msg in policy_overrides.violation

access_policy_violations contains {"policy": "policy-target-namespace", "msg": msg} if some msg in policy_target_namespace.violation

tenant_violations contains {"policy": "tenant-overlap", "msg": msg} if some msg in tenant_overlap.violation

tenant_violations contains {"policy": "tenant-namespace-ownership", "msg": msg} if some msg in tenant_namespace_ownership.violation

# The built-in policy names, so that configuration can be checked against them.
policies := {
	"route-hostnames", "route-hostname-conflicts", "route-parent-refs", "route-backend-refs", "route-count",
	"ratelimit-ceiling", "policy-target-namespace", "policy-overrides", "access-policy-rule", "tenant-overlap",
	"tenant-namespace-ownership", "reference-grant-owners", "platform-labels",
}
