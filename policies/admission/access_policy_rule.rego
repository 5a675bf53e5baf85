# access-policy-rule: an AccessPolicy names a data-path rule that a loaded bundle provides, with parameters
# of the shape that rule's schema describes. data.access_rules is filled by the engine from the
# `tenantgate/access/catalog` of every loaded bundle (built-in and custom). The rule is read wherever an
# AccessPolicy holds one: spec.rule, spec.defaults.rule and spec.overrides.rule.
package tenantgate.admission.access_policy_rule

import data.tenantgate.lib.schema
import data.tenantgate.lib.tenancy

default rules := {}

rules := data.access_rules

is_access_policy_write if {
	tenancy.is_kind(tenancy.tenantgate_group, "AccessPolicy")
	tenancy.writing
}

# field path → the object holding rule and parameters
sections[at] := section if {
	some at, path in {"spec": [], "spec.defaults": ["defaults"], "spec.overrides": ["overrides"]}
	section := object.get(tenancy.obj.spec, path, null)
	is_object(section)
	section.rule
}

violation contains msg if {
	is_access_policy_write
	some at, section in sections
	rule := section.rule
	not rules[rule]
	msg := concat("", [
		at, ".rule '", rule, "' is not a data-path rule of any loaded policy bundle — use one of ",
		tenancy.quoted_list({k | some k, _ in rules}), ", or ask the platform team to load a bundle that provides it",
	])
}

violation contains msg if {
	is_access_policy_write
	some at, section in sections
	rule := section.rule
	definition := rules[rule]
	some problem in schema.errors(object.get(section, "parameters", {}), definition.schema, concat("", [at, ".parameters"]))
	msg := concat("", [problem, " — give rule '", rule, "' the parameters it takes: ", definition.description])
}
