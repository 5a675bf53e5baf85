# The data-path rules this bundle provides. The engine reads `catalog` from every loaded bundle to know
# which AccessPolicy `rule` names exist, which entrypoint evaluates each, and the parameter schema that
# admission checks AccessPolicy parameters against. A custom bundle publishes its rules the same way.
package tenantgate.access

import data.tenantgate.access.allow_cidrs
import data.tenantgate.access.api_key
import data.tenantgate.access.methods
import data.tenantgate.access.require_headers

catalog := {
	"allow-cidrs": {
		"entrypoint": "tenantgate/access/allow_cidrs/decision",
		"description": allow_cidrs.description,
		"schema": allow_cidrs.parameters_schema,
	},
	"require-headers": {
		"entrypoint": "tenantgate/access/require_headers/decision",
		"description": require_headers.description,
		"schema": require_headers.parameters_schema,
	},
	"methods": {
		"entrypoint": "tenantgate/access/methods/decision",
		"description": methods.description,
		"schema": methods.parameters_schema,
	},
	"api-key": {
		"entrypoint": "tenantgate/access/api_key/decision",
		"description": api_key.description,
		"schema": api_key.parameters_schema,
	},
}
