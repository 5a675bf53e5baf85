# The data-path rules this bundle provides. The engine reads `catalog` from every loaded bundle to know
# which AccessPolicy `rule` names exist, which entrypoint evaluates each, and the parameter schema that
# admission checks AccessPolicy parameters against. A custom bundle publishes its rules the same way.
# `reads` (optional) names an entrypoint that, given {"parameters": …}, answers which request fields the
# decision depends on ({"fields": [...], "headers": [...]}, see lib/access.rego): the proxy then caches
# decisions per distinct value of those fields. A rule without it is evaluated on every request.
package tenantgate.access

import data.tenantgate.access.allow_cidrs
import data.tenantgate.access.api_key
import data.tenantgate.access.methods
import data.tenantgate.access.require_headers

catalog := {
	"allow-cidrs": {
		"entrypoint": "tenantgate/access/allow_cidrs/decision",
		"reads": "tenantgate/access/allow_cidrs/reads",
		"description": allow_cidrs.description,
		"schema": allow_cidrs.parameters_schema,
	},
	"require-headers": {
		"entrypoint": "tenantgate/access/require_headers/decision",
		"reads": "tenantgate/access/require_headers/reads",
		"description": require_headers.description,
		"schema": require_headers.parameters_schema,
	},
	"methods": {
		"entrypoint": "tenantgate/access/methods/decision",
		"reads": "tenantgate/access/methods/reads",
		"description": methods.description,
		"schema": methods.parameters_schema,
	},
	"api-key": {
		"entrypoint": "tenantgate/access/api_key/decision",
		"reads": "tenantgate/access/api_key/reads",
		"description": api_key.description,
		"schema": api_key.parameters_schema,
	},
}
