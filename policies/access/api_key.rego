# Data-path rule `api-key`: the request must carry an API key (header `header`, default X-API-Key) whose
# SHA-256 (lower-case hex) is listed in `sha256`; the AccessPolicy holds hashes, never keys.
package tenantgate.access.api_key

import data.tenantgate.lib.access

description := "require an API key whose SHA-256 hex digest is in parameters.sha256 (header: parameters.header, default X-API-Key)"

parameters_schema := {
	"type": "object",
	"required": ["sha256"],
	"additionalProperties": false,
	"properties": {
		"header": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"},
		"sha256": {
			"type": "array",
			"minItems": 1,
			"maxItems": 1024,
			"items": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
		},
	},
}

header_name := object.get(access.parameters, "header", "x-api-key")

default decision := {"allow": false, "status": 403, "reason": "missing API key"}

decision := access.allow("API key accepted") if {
	key := access.header(header_name)
	crypto.sha256(key) in access.parameters.sha256
}

decision := access.deny("API key not accepted") if {
	key := access.header(header_name)
	not crypto.sha256(key) in access.parameters.sha256
}
