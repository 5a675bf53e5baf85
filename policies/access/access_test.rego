package tenantgate.access_test

import data.tenantgate.access
import data.tenantgate.lib.schema

request(overrides) := object.union(
	{
		"method": "GET",
		"path": "/",
		"host": "shop.acme.example.com",
		"headers": {"x-api-key": "secret-1", "x-tenant": "acme"},
		"source_ip": "10.1.2.3",
		"route": {"kind": "HTTPRoute", "namespace": "acme-web", "name": "shop"},
		"tenant": "acme",
	},
	overrides,
)

# allow-cidrs

test_allow_cidrs_allows_address_in_range if {
	d := access.allow_cidrs.decision with input as request({"parameters": {"cidrs": ["192.168.0.0/16", "10.0.0.0/8"]}})
	d.allow
	d.status == 200
}

test_allow_cidrs_refuses_address_out_of_range if {
	d := access.allow_cidrs.decision with input as request({"source_ip": "172.16.0.1", "parameters": {"cidrs": ["10.0.0.0/8"]}})
	not d.allow
	d.status == 403
	d.reason == "source address is not in an allowed range"
}

test_allow_cidrs_matches_ipv4_mapped_address if {
	d := access.allow_cidrs.decision with input as request({"source_ip": "::ffff:127.0.0.1", "parameters": {"cidrs": ["127.0.0.0/8"]}})
	d.allow
}

test_allow_cidrs_ipv6 if {
	access.allow_cidrs.decision.allow with input as request({"source_ip": "fd00::1", "parameters": {"cidrs": ["fd00::/8"]}})
	not access.allow_cidrs.decision.allow with input as request({"source_ip": "fe80::1", "parameters": {"cidrs": ["fd00::/8"]}})
}

test_allow_cidrs_refuses_without_parameters if {
	not access.allow_cidrs.decision.allow with input as request({})
}

# require-headers

test_require_headers_present if {
	d := access.require_headers.decision with input as request({"parameters": {"headers": [{"name": "X-Tenant"}, {"name": "x-api-key"}]}})
	d.allow
}

test_require_headers_missing if {
	d := access.require_headers.decision with input as request({"parameters": {"headers": [{"name": "X-Request-Id"}, {"name": "X-Tenant"}]}})
	not d.allow
	d.status == 403
	d.reason == "missing or wrong header: x-request-id"
}

test_require_headers_value_and_pattern if {
	access.require_headers.decision.allow with input as request({"parameters": {"headers": [{"name": "x-tenant", "value": "acme"}]}})
	not access.require_headers.decision.allow with input as request({"parameters": {"headers": [{"name": "x-tenant", "value": "other"}]}})
	access.require_headers.decision.allow with input as request({"parameters": {"headers": [{"name": "x-tenant", "pattern": "^ac"}]}})
	not access.require_headers.decision.allow with input as request({"parameters": {"headers": [{"name": "x-tenant", "pattern": "^zz"}]}})
}

# methods

test_methods_allowed if {
	access.methods.decision.allow with input as request({"method": "get", "parameters": {"methods": ["GET", "HEAD"]}})
}

test_methods_refused if {
	d := access.methods.decision with input as request({"method": "DELETE", "parameters": {"methods": ["GET", "HEAD"]}})
	not d.allow
	d.reason == "method DELETE is not allowed on this route"
}

# api-key

key_hash := crypto.sha256("secret-1")

test_api_key_accepted if {
	access.api_key.decision.allow with input as request({"parameters": {"sha256": [key_hash]}})
}

test_api_key_wrong_key if {
	d := access.api_key.decision with input as request({"parameters": {"sha256": [crypto.sha256("other")]}})
	not d.allow
	d.reason == "API key not accepted"
}

test_api_key_missing if {
	no_key := object.union(object.remove(request({"parameters": {"sha256": [key_hash]}}), ["headers"]), {"headers": {}})
	d := access.api_key.decision with input as no_key
	not d.allow
	d.reason == "missing API key"
}

test_api_key_custom_header if {
	access.api_key.decision.allow with input as request({"headers": {"authorization-key": "secret-1"}, "parameters": {"header": "Authorization-Key", "sha256": [key_hash]}})
}

# the catalog and the schemas

test_catalog_lists_every_rule if {
	object.keys(access.catalog) == {"allow-cidrs", "require-headers", "methods", "api-key"}
}

test_schemas_accept_the_documented_examples if {
	schema.errors({"cidrs": ["10.0.0.0/8", "127.0.0.0/8"]}, access.catalog["allow-cidrs"].schema, "p") == set()
	schema.errors({"headers": [{"name": "X-Tenant", "value": "acme"}]}, access.catalog["require-headers"].schema, "p") == set()
	schema.errors({"methods": ["GET", "HEAD"]}, access.catalog.methods.schema, "p") == set()
	schema.errors({"header": "X-API-Key", "sha256": [key_hash]}, access.catalog["api-key"].schema, "p") == set()
}

test_schemas_refuse_wrong_shapes if {
	count(schema.errors({"cidrs": "10.0.0.0/8"}, access.catalog["allow-cidrs"].schema, "p")) > 0
	count(schema.errors({"headers": [{"value": "x"}]}, access.catalog["require-headers"].schema, "p")) > 0
	count(schema.errors({"methods": ["FETCH"]}, access.catalog.methods.schema, "p")) > 0
	count(schema.errors({"sha256": ["secret-1"]}, access.catalog["api-key"].schema, "p")) > 0
}

# what each rule declares it reads (the proxy caches decisions by these)

test_reads_declarations if {
	access.allow_cidrs.reads == {"fields": ["source_ip"], "headers": []}
	access.methods.reads == {"fields": ["method"], "headers": []}
	access.require_headers.reads == {"fields": [], "headers": ["x-request-id", "x-tenant"]} with input as {"parameters": {"headers": [{"name": "X-Tenant"}, {"name": "x-request-id", "pattern": "^a"}]}}
	access.api_key.reads == {"fields": [], "headers": ["x-api-key"]}
	access.api_key.reads == {"fields": [], "headers": ["authorization-key"]} with input as {"parameters": {"header": "Authorization-Key"}}
	every rule in access.catalog {
		rule.reads
	}
}

test_require_headers_pattern_is_a_search if {
	access.require_headers.decision.allow with input as request({"parameters": {"headers": [{"name": "x-tenant", "pattern": "cm"}]}})
	not access.require_headers.decision.allow with input as request({"parameters": {"headers": [{"name": "x-tenant", "pattern": "^cm"}]}})
}
