# Data-path rule `allow-cidrs`: only clients whose source address is in one of the CIDRs get through.
package tenantgate.access.allow_cidrs

import data.tenantgate.lib.access

description := "allow only clients whose source address is in one of parameters.cidrs"

parameters_schema := {
	"type": "object",
	"required": ["cidrs"],
	"additionalProperties": false,
	"properties": {"cidrs": {
		"type": "array",
		"minItems": 1,
		"maxItems": 256,
		"items": {"type": "string", "format": "cidr"},
	}},
}

# the decision depends on the client address only (and the parameters)
reads := access.reads(["source_ip"], [])

default decision := {"allow": false, "status": 403, "reason": "source address is not in an allowed range"}

decision := access.allow("source address in an allowed range") if {
	some cidr in access.parameters.cidrs
	net.cidr_contains(cidr, access.source_ip)
}
