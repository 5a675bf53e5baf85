# ratelimit-ceiling: no single RateLimitPolicy limit allows more than the tenant's ceiling
# (spec.limits.rateLimit), compared as rates: 100 per Minute is below 1000 per Second. Limits are read
# wherever a RateLimitPolicy holds them: spec.limits, spec.defaults.limits and spec.overrides.limits.
package tenantgate.admission.ratelimit_ceiling

import data.tenantgate.lib.tenancy

# field path of each part of the spec that holds limits → its path under spec
sections := {"spec": [], "spec.defaults": ["defaults"], "spec.overrides": ["overrides"]}

seconds := {"Second": 1, "Minute": 60, "Hour": 3600, "Day": 86400}

violation contains msg if {
	tenancy.is_kind(tenancy.tenantgate_group, "RateLimitPolicy")
	tenancy.writing
	tenant := tenancy.request_tenant
	ceiling := tenancy.request_tenant_spec.limits.rateLimit
	some at, path in sections
	some i, limit in object.get(tenancy.obj.spec, array.concat(path, ["limits"]), [])

	# r1/u1 > r2/u2  <=>  r1*u2 > r2*u1, in integers
	limit.requests * seconds[ceiling.unit] > ceiling.requests * seconds[limit.unit]
	most := floor((ceiling.requests * seconds[limit.unit]) / seconds[ceiling.unit])
	msg := concat("", [
		at, ".limits[", format_int(i, 10), "] ('", object.get(limit, "name", ""), "') allows ",
		format_int(limit.requests, 10), " requests per ", limit.unit, ", above tenant '", tenant, "' ceiling of ",
		format_int(ceiling.requests, 10), " per ", ceiling.unit, " — lower requests to at most ", format_int(most, 10),
		" per ", limit.unit, ", or ask the platform team to raise spec.limits.rateLimit of Tenant ", tenant,
	])
}
