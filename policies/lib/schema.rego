# A small JSON-schema checker for AccessPolicy parameters: type, required, properties,
# additionalProperties: false, items, enum, pattern, format (cidr), minLength/maxLength,
# minItems/maxItems, minimum/maximum, and anyOf whose alternatives list only `required` keys. Rego has no recursion, so nesting is unrolled to a fixed depth
# (`max_depth` levels below the root), which covers every data-path rule's parameters.
package tenantgate.lib.schema

# errors(value, schema, root): messages "<path> <what is wrong>" for `value` checked against `schema`;
# `root` names the value in paths, e.g. "spec.parameters".
errors(value, schema, root) := {msg |
	some node in nodes([root, value, schema])
	some msg in node_errors(node)
}

max_depth := 4

nodes(root) := (((d0 | d1) | d2) | d3) | d4 if {
	d0 := {root}
	d1 := children(d0)
	d2 := children(d1)
	d3 := children(d2)
	d4 := children(d3)
}

children(level) := {c | some n in level; some c in node_children(n)}

# A node is [path, value, schema].
node_children(n) := properties | items if {
	properties := {[concat(".", [n[0], k]), v, s] |
		is_object(n[1])
		some k, s in object.get(n[2], "properties", {})
		v := n[1][k]
	}
	items := {[concat("", [n[0], "[", format_int(i, 10), "]"]), v, n[2].items] |
		is_array(n[1])
		n[2].items
		some i, v in n[1]
	}
}

node_errors(n) := ((((((({m | m := type_error(n)} | required_errors(n)) | additional_errors(n)) | {m | m := enum_error(n)}) | {m | m := pattern_error(n)}) | {m | m := format_error(n)}) | {m | m := length_error(n)}) | {m | m := range_error(n)}) | {m | m := any_of_error(n)}

show(v) := concat("", ["'", v, "'"]) if is_string(v)

show(v) := json.marshal(v) if not is_string(v)

type_ok(v, "object") if is_object(v)

type_ok(v, "array") if is_array(v)

type_ok(v, "string") if is_string(v)

type_ok(v, "boolean") if is_boolean(v)

type_ok(v, "number") if is_number(v)

type_ok(v, "integer") if {
	is_number(v)
	round(v) == v
}

type_error(n) := concat("", [n[0], " is ", show(n[1]), ", not of type ", n[2].type]) if {
	n[2].type
	not type_ok(n[1], n[2].type)
}

required_errors(n) := {m |
	is_object(n[1])
	some r in object.get(n[2], "required", [])
	not has_key(n[1], r)
	m := concat("", [n[0], ".", r, " is required"])
}

additional_errors(n) := {m |
	is_object(n[1])
	n[2].additionalProperties == false
	some k, _ in n[1]
	not has_key(object.get(n[2], "properties", {}), k)
	m := concat("", [n[0], ".", k, " is not a known parameter"])
}

has_key(o, k) if {
	_ = o[k]
}

enum_error(n) := concat("", [n[0], " is ", show(n[1]), ", not one of ", concat(", ", [show(e) | some e in n[2].enum])]) if {
	n[2].enum
	not n[1] in n[2].enum
}

pattern_error(n) := concat("", [n[0], " is ", show(n[1]), ", which does not match ", n[2].pattern]) if {
	is_string(n[1])
	n[2].pattern
	not regex.match(n[2].pattern, n[1])
}

format_error(n) := concat("", [n[0], " is ", show(n[1]), ", not a CIDR such as 10.0.0.0/8 or fd00::/8"]) if {
	is_string(n[1])
	n[2].format == "cidr"
	not is_cidr(n[1])
}

ipv4_cidr := `^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])/(3[0-2]|[12]?[0-9])$`

ipv6_cidr := `^[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}/(12[0-8]|1[01][0-9]|[1-9]?[0-9])$`

is_cidr(s) if regex.match(ipv4_cidr, s)

is_cidr(s) if {
	regex.match(ipv6_cidr, s)
	count(split(s, "::")) <= 2
}

length_error(n) := concat("", [n[0], " has ", format_int(count(n[1]), 10), " elements, fewer than the minimum ", format_int(n[2].minItems, 10)]) if {
	is_array(n[1])
	count(n[1]) < n[2].minItems
}

length_error(n) := concat("", [n[0], " has ", format_int(count(n[1]), 10), " elements, more than the maximum ", format_int(n[2].maxItems, 10)]) if {
	is_array(n[1])
	count(n[1]) > n[2].maxItems
}

length_error(n) := concat("", [n[0], " is shorter than ", format_int(n[2].minLength, 10), " characters"]) if {
	is_string(n[1])
	count(n[1]) < n[2].minLength
}

length_error(n) := concat("", [n[0], " is longer than ", format_int(n[2].maxLength, 10), " characters"]) if {
	is_string(n[1])
	count(n[1]) > n[2].maxLength
}

range_error(n) := concat("", [n[0], " is ", show(n[1]), ", below the minimum ", json.marshal(n[2].minimum)]) if {
	is_number(n[1])
	n[1] < n[2].minimum
}

range_error(n) := concat("", [n[0], " is ", show(n[1]), ", above the maximum ", json.marshal(n[2].maximum)]) if {
	is_number(n[1])
	n[1] > n[2].maximum
}

# anyOf, for "one of these keys must be present": each alternative lists only `required`.
any_of_error(n) := concat("", [n[0], " needs ", concat(" or ", alternatives)]) if {
	is_object(n[1])
	n[2].anyOf
	not any_alternative_present(n)
	alternatives := [concat(" and ", a.required) | some a in n[2].anyOf]
}

any_alternative_present(n) if {
	some a in n[2].anyOf
	every r in a.required {
		has_key(n[1], r)
	}
}
