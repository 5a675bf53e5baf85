# Hostname matching with Gateway API semantics: a leading "*." label is a suffix match, so
# "*.example.com" matches "a.example.com" and "a.b.example.com" but never "example.com" itself.
package tenantgate.lib.hostnames

is_wildcard(h) if startswith(h, "*.")

# ".example.com" for "*.example.com"
wildcard_suffix(h) := substring(h, 1, -1)

# covers(pattern, host): every name that `host` matches is also matched by `pattern`. Hostnames are
# lower-case (the Gateway API and Tenant schemas allow nothing else), so no case folding here.
covers(pattern, host) if pattern == host

covers(pattern, host) if {
	startswith(pattern, "*.")
	endswith(host, substring(pattern, 1, -1))
}

# overlap(a, b): some name is matched by both. With suffix-only wildcards, two hostnames overlap
# exactly when one covers the other.
overlap(a, b) if covers(a, b)

overlap(a, b) if covers(b, a)

# covered(host, patterns): some pattern in the list covers host.
covered(host, patterns) if {
	some p in patterns
	covers(p, host)
}

# The patterns that could cover `host`, for indexed look-ups: the host itself and "*.<suffix>" for every
# proper suffix of it ("a.b.c" -> "a.b.c", "*.b.c", "*.c").
candidates(host) := {h |
	labels := split(trim_prefix(lower(host), "*."), ".")
	some i in numbers.range(0, count(labels) - 1)
	h := candidate(labels, i)
} | {lower(host)}

candidate(labels, i) := concat(".", ["*", concat(".", array.slice(labels, i + 1, count(labels)))]) if {
	i + 1 < count(labels)
}
