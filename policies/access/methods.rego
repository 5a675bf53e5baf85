# Data-path rule `methods`: only the listed HTTP methods get through.
package tenantgate.access.methods

import data.tenantgate.lib.access

description := "allow only the HTTP methods in parameters.methods"

known_methods := ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"]

parameters_schema := {
	"type": "object",
	"required": ["methods"],
	"additionalProperties": false,
	"properties": {"methods": {
		"type": "array",
		"minItems": 1,
		"maxItems": 9,
		"items": {"type": "string", "enum": known_methods},
	}},
}

# the decision depends on the method only (and the parameters)
reads := access.reads(["method"], [])

default decision := {"allow": false, "status": 403, "reason": "method not allowed"}

decision := access.allow("method allowed") if upper(input.method) in access.parameters.methods

decision := access.deny(concat("", ["method ", upper(input.method), " is not allowed on this route"])) if {
	not upper(input.method) in access.parameters.methods
}
