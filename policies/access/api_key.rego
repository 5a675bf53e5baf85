# Data-path rule `api-key`: the request must carry an API key (header `header`, default X-API-Key) whose
# SHA-256 (lower-case hex) is listed in `sha256`; the AccessPolicy holds hashes, never keys. With
# `secretRef`, the keys live in a Secret of the policy's own namespace: the proxy compares them in constant
# time and hands this rule the matching digest (or none) as `sha256`.
package tenantgate.access.api_key

import data.tenantgate.lib.access

description := "require an API key whose SHA-256 hex digest is in parameters.sha256, or that is a value of the Secret parameters.secretRef (name, optional key) in the policy's namespace (header: parameters.header, default X-API-Key)"

parameters_schema := {
	"type": "object",
	"anyOf": [{"required": ["sha256"]}, {"required": ["secretRef"]}],
	"additionalProperties": false,
	"properties": {
		"header": {"type": "string", "minLength": 1, "maxLength": 256, "pattern": "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"},
		"sha256": {
			"type": "array",
			"minItems": 1,
			"maxItems": 1024,
			"items": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
		},
		"secretRef": {
			"type": "object",
			"required": ["name"],
			"additionalProperties": false,
			"properties": {
				"name": {"type": "string", "minLength": 1, "maxLength": 253, "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"},
				"key": {"type": "string", "minLength": 1, "maxLength": 253},
			},
		},
	},
}

header_name := object.get(access.parameters, "header", "x-api-key")

# the decision depends on the key header only (and the parameters); the proxy reduces that header to the
# outcome of its constant-time comparison before asking (proxy/access/api-key.ts), so it caches decisions
# by that outcome and never keeps a presented key
reads := access.reads([], [lower(header_name)])

default decision := {"allow": false, "status": 403, "reason": "missing API key"}

decision := access.allow("API key accepted") if {
	key := access.header(header_name)
	crypto.sha256(key) in access.parameters.sha256
}

decision := access.deny("API key not accepted") if {
	key := access.header(header_name)
	not crypto.sha256(key) in access.parameters.sha256
}
