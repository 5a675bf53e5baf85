package tenantgate.lib.hostnames_test

import data.tenantgate.lib.hostnames

test_exact_covers_itself if hostnames.covers("a.example.com", "a.example.com")

test_exact_does_not_cover_other if not hostnames.covers("a.example.com", "b.example.com")

test_wildcard_covers_subdomain if hostnames.covers("*.example.com", "a.example.com")

test_wildcard_covers_deeper_subdomain if hostnames.covers("*.example.com", "a.b.example.com")

test_wildcard_covers_narrower_wildcard if hostnames.covers("*.example.com", "*.b.example.com")

test_wildcard_does_not_cover_apex if not hostnames.covers("*.example.com", "example.com")

test_wildcard_does_not_cover_wider_wildcard if not hostnames.covers("*.b.example.com", "*.example.com")

test_wildcard_does_not_cover_lookalike if not hostnames.covers("*.example.com", "a.badexample.com")

test_exact_does_not_cover_wildcard if not hostnames.covers("a.example.com", "*.example.com")

test_overlap_both_ways if {
	hostnames.overlap("*.example.com", "a.example.com")
	hostnames.overlap("a.example.com", "*.example.com")
	hostnames.overlap("*.example.com", "*.a.example.com")
}

test_no_overlap_between_siblings if {
	not hostnames.overlap("*.a.example.com", "*.b.example.com")
	not hostnames.overlap("a.example.com", "example.com")
}

test_covered_by_list if {
	hostnames.covered("x.acme.example.com", ["acme.example.com", "*.acme.example.com"])
	not hostnames.covered("x.other.example.com", ["acme.example.com", "*.acme.example.com"])
}

test_candidates_of_name if {
	hostnames.candidates("a.b.example.com") == {"a.b.example.com", "*.b.example.com", "*.example.com", "*.com"}
}

test_candidates_of_wildcard if {
	hostnames.candidates("*.b.example.com") == {"*.b.example.com", "*.example.com", "*.com"}
}
