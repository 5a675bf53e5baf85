package tenantgate.admission.access_policy_rule_test

import data.tenantgate.access
import data.tenantgate.admission.access_policy_rule
import data.tenantgate.testdata

check(spec) := v if {
	r := testdata.review({"kind": "AccessPolicy", "namespace": "acme-api", "object": {"metadata": {"name": "p", "namespace": "acme-api"}, "spec": spec}})
	v := access_policy_rule.violation with input as r with data.inventory as testdata.inventory with data.access_rules as access.catalog
}

test_known_rule_with_good_parameters_is_accepted if {
	count(check({"rule": "allow-cidrs", "parameters": {"cidrs": ["10.0.0.0/8"]}})) == 0
	count(check({"rule": "methods", "parameters": {"methods": ["GET"]}})) == 0
}

test_unknown_rule_is_refused if {
	check({"rule": "allow-everyone"}) == {"spec.rule 'allow-everyone' is not a data-path rule of any loaded policy bundle — use one of 'allow-cidrs', 'api-key', 'methods', 'require-headers', or ask the platform team to load a bundle that provides it"}
}

test_bad_parameters_are_refused if {
	check({"rule": "allow-cidrs", "parameters": {"cidrs": ["10.0.0.0/33"]}}) == {"spec.parameters.cidrs[0] is '10.0.0.0/33', not a CIDR such as 10.0.0.0/8 or fd00::/8 — give rule 'allow-cidrs' the parameters it takes: allow only clients whose source address is in one of parameters.cidrs"}
}

test_missing_parameters_are_refused if {
	some msg in check({"rule": "api-key"})
	startswith(msg, "spec.parameters needs sha256 or secretRef")
}

test_api_key_from_a_secret_in_the_namespace_is_accepted if {
	count(check({"rule": "api-key", "parameters": {"secretRef": {"name": "api-keys", "key": "alice"}}})) == 0
}

test_api_key_secret_in_another_namespace_is_refused if {
	some msg in check({"rule": "api-key", "parameters": {"secretRef": {"name": "api-keys", "namespace": "other-tenant"}}})
	startswith(msg, "spec.parameters.secretRef.namespace is not a known parameter")
}

test_rules_come_from_the_data_document if {
	r := testdata.review({"kind": "AccessPolicy", "namespace": "acme-api", "object": {"metadata": {"name": "p"}, "spec": {"rule": "geo", "parameters": {}}}})
	count(access_policy_rule.violation) == 0 with input as r with data.access_rules as {"geo": {"schema": {"type": "object"}, "description": "d"}}
}

test_rules_under_defaults_and_overrides_are_checked if {
	v := check({
		"defaults": {"rule": "allow-everyone"},
		"overrides": {"rule": "allow-cidrs", "parameters": {"cidrs": ["10.0.0.0/33"]}},
	})
	count(v) == 2
	some d in v
	startswith(d, "spec.defaults.rule 'allow-everyone' is not a data-path rule")
	some o in v
	startswith(o, "spec.overrides.parameters.cidrs[0] is '10.0.0.0/33'")
	count(check({"defaults": {"rule": "methods", "parameters": {"methods": ["GET"]}}})) == 0
}
