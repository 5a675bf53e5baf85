# Data-path rule `require-headers`: every listed header must be present (and, when given, equal `value`
# or match the regular expression `pattern`).
package tenantgate.access.require_headers

import data.tenantgate.lib.access

description := "require every header in parameters.headers (name; optional exact value or pattern)"

parameters_schema := {
	"type": "object",
	"required": ["headers"],
	"additionalProperties": false,
	"properties": {"headers": {
		"type": "array",
		"minItems": 1,
		"maxItems": 32,
		"items": {
			"type": "object",
			"required": ["name"],
			"additionalProperties": false,
			"properties": {
				"name": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"},
				"value": {"type": "string", "maxLength": 4096},
				"pattern": {"type": "string", "minLength": 1, "maxLength": 1024},
			},
		},
	}},
}

# the decision depends on the listed headers only (and the parameters)
reads := access.reads([], sort({lower(h.name) | some h in access.parameters.headers}))

failing contains lower(h.name) if {
	some h in access.parameters.headers
	not satisfied(h)
}

satisfied(h) if {
	v := access.header(h.name)
	value_ok(h, v)
	pattern_ok(h, v)
}

value_ok(h, _) if not h.value

value_ok(h, v) if h.value == v

pattern_ok(h, _) if not h.pattern

# regex.find_n rather than regex.match: the proxy provides it with compiled patterns kept across requests,
# while opa-wasm's regex.match compiles the pattern again on every evaluation (policies/builtins.ts).
pattern_ok(h, v) if count(regex.find_n(h.pattern, v, 1)) > 0

default decision := {"allow": false, "status": 403, "reason": "required headers are missing"}

decision := access.allow("required headers present") if count(failing) == 0

decision := access.deny(concat("", ["missing or wrong header: ", concat(", ", sort([n | some n in failing]))])) if {
	count(failing) > 0
}
