# Shared pieces of the data-path rules (tenantgate.access.*). Every rule answers
# {"allow": bool, "status": int, "reason": string}; the proxy answers a refusal with `status` (403: an
# AccessPolicy refused the request) and a short body holding `reason`.
package tenantgate.lib.access

allow(reason) := {"allow": true, "status": 200, "reason": reason}

deny(reason) := {"allow": false, "status": 403, "reason": reason}

# The client address without the IPv4-mapped IPv6 prefix that dual-stack sockets report
# ("::ffff:10.1.2.3" -> "10.1.2.3"), so IPv4 CIDRs match it.
source_ip := trim_prefix(input.source_ip, "::ffff:") if {
	startswith(input.source_ip, "::ffff:")
	contains(input.source_ip, ".")
}

source_ip := input.source_ip if {
	not startswith(input.source_ip, "::ffff:")
}

source_ip := input.source_ip if {
	not contains(input.source_ip, ".")
}

default parameters := {}

parameters := input.parameters

# What a rule's `reads` entrypoint answers (see tenantgate.access catalog): the only request fields its
# decision depends on, so the proxy may reuse a decision for requests equal in those. `fields` lists any
# of method, path, host, source_ip, route, tenant; `headers` lower-cased header names. The parameters are
# always part of it. A rule that publishes no `reads` is evaluated on every request.
reads(fields, headers) := {"fields": fields, "headers": headers}

# header(name): the request header's value (input.headers has lower-cased names).
header(name) := input.headers[lower(name)]
