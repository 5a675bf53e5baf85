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

# header(name): the request header's value (input.headers has lower-cased names).
header(name) := input.headers[lower(name)]
