package tenantgate.lib.schema_test

import data.tenantgate.lib.schema

cidrs_schema := {
	"type": "object",
	"required": ["cidrs"],
	"additionalProperties": false,
	"properties": {"cidrs": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"type": "string", "format": "cidr"}}},
}

headers_schema := {
	"type": "object",
	"required": ["headers"],
	"properties": {"headers": {"type": "array", "items": {
		"type": "object",
		"required": ["name"],
		"additionalProperties": false,
		"properties": {"name": {"type": "string", "pattern": "^[A-Za-z0-9-]+$", "minLength": 1}, "value": {"type": "string"}},
	}}},
}

test_valid_parameters_have_no_errors if {
	schema.errors({"cidrs": ["10.0.0.0/8", "fd00::/8"]}, cidrs_schema, "p") == set()
}

test_missing_required if {
	schema.errors({}, cidrs_schema, "p") == {"p.cidrs is required"}
}

test_unknown_parameter if {
	schema.errors({"cidrs": ["10.0.0.0/8"], "cidr": "x"}, cidrs_schema, "p") == {"p.cidr is not a known parameter"}
}

test_wrong_type_at_root if {
	schema.errors(["10.0.0.0/8"], cidrs_schema, "p") == {`p is ["10.0.0.0/8"], not of type object`}
}

test_bad_cidr_in_array if {
	schema.errors({"cidrs": ["10.0.0.0/33", "10.1.0.0/16"]}, cidrs_schema, "p") == {"p.cidrs[0] is '10.0.0.0/33', not a CIDR such as 10.0.0.0/8 or fd00::/8"}
}

test_ipv6_with_two_double_colons_is_not_a_cidr if {
	count(schema.errors({"cidrs": ["fd00::1::/64"]}, cidrs_schema, "p")) == 1
}

test_item_count_bounds if {
	schema.errors({"cidrs": []}, cidrs_schema, "p") == {"p.cidrs has 0 elements, fewer than the minimum 1"}
	schema.errors({"cidrs": ["1.0.0.0/8", "2.0.0.0/8", "3.0.0.0/8"]}, cidrs_schema, "p") == {"p.cidrs has 3 elements, more than the maximum 2"}
}

test_nested_object_errors if {
	errs := schema.errors({"headers": [{"name": "x-ok"}, {"value": "v"}, {"name": "bad header", "extra": true}]}, headers_schema, "p")
	errs == {
		"p.headers[1].name is required",
		"p.headers[2].extra is not a known parameter",
		"p.headers[2].name is 'bad header', which does not match ^[A-Za-z0-9-]+$",
	}
}

test_enum_and_ranges if {
	s := {"type": "object", "properties": {
		"m": {"type": "string", "enum": ["GET", "POST"]},
		"n": {"type": "integer", "minimum": 1, "maximum": 10},
	}}
	schema.errors({"m": "PUT", "n": 11}, s, "p") == {"p.m is 'PUT', not one of 'GET', 'POST'", "p.n is 11, above the maximum 10"}
	schema.errors({"n": 1.5}, s, "p") == {"p.n is 1.5, not of type integer"}
	schema.errors({"n": 0}, s, "p") == {"p.n is 0, below the minimum 1"}
}
