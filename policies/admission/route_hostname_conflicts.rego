# route-hostname-conflicts: a route may not claim a hostname that a route of another tenant already
# claims (wildcards considered: "*.acme.example.com" conflicts with "shop.acme.example.com").
package tenantgate.admission.route_hostname_conflicts

import data.tenantgate.lib.hostnames
import data.tenantgate.lib.tenancy

violation contains msg if {
	tenancy.route_write
	tenant := tenancy.request_tenant
	some i, h in object.get(tenancy.obj.spec, "hostnames", [])
	some [claimed, claim] in conflicts(h)
	claim.tenant != tenant
	msg := concat("", [
		"spec.hostnames[", format_int(i, 10), "] '", h, "' overlaps '", claimed, "', already claimed by ", claim.kind, " ",
		claim.namespace, "/", claim.name, " of tenant '", claim.tenant,
		"' — choose a hostname no other tenant serves, or ask the platform team to resolve the claim",
	])
}

# Claims the hostname overlaps: itself and the wildcards covering it, looked up by key; for a wildcard, also
# every claimed name under it (a scan, only for wildcard hostnames).
conflicts(h) := {[c, claim] | some c in hostnames.candidates(h); some claim in tenancy.hostname_claims[c]} | {[c, claim] |
	hostnames.is_wildcard(h)
	suffix := lower(hostnames.wildcard_suffix(h))
	some c, claims in tenancy.hostname_claims
	endswith(c, suffix)
	some claim in claims
}
