// Hostname rules of the Gateway API: a wildcard `*.example.com` matches one or more labels in front of
// `example.com` but never `example.com` itself; the hostnames a route serves on a listener are the
// intersection of the two lists; the most specific listener hostname wins (exact, then the longest
// wildcard, then none).

/** True when the concrete host `host` is covered by `pattern` (exact or `*.suffix`). */
export function hostnameMatches(pattern: string, host: string): boolean {
  if (pattern.startsWith('*.')) {
    const suffix = pattern.slice(1); // ".example.com"
    return host.length > suffix.length && host.endsWith(suffix);
  }
  return pattern === host;
}

/**
 * The hostname both `listener` and `route` accept, or undefined when they are disjoint. For two
 * wildcards the more specific one is the intersection (`*.a.com` ∩ `*.b.a.com` = `*.b.a.com`).
 */
export function intersectHostname(listener: string, route: string): string | undefined {
  const lw = listener.startsWith('*.');
  const rw = route.startsWith('*.');
  if (!lw && !rw) return listener === route ? route : undefined;
  if (lw && !rw) return hostnameMatches(listener, route) ? route : undefined;
  if (!lw && rw) return hostnameMatches(route, listener) ? listener : undefined;
  if (listener === route) return route;
  if (hostnameMatches(listener, route.slice(2)) && route.length > listener.length) return route;
  if (hostnameMatches(route, listener.slice(2)) && listener.length > route.length) return listener;
  return undefined;
}

/**
 * Effective hostnames of a route on a listener: an empty array means "every host" (neither side
 * restricts), undefined means no intersection (the route must not attach there).
 */
export function effectiveHostnames(
  listenerHostname: string | undefined,
  routeHostnames: readonly string[] | undefined,
): string[] | undefined {
  const routeNames = (routeHostnames ?? []).map((h) => h.toLowerCase());
  const listenerName = listenerHostname?.toLowerCase();
  if (!listenerName) return routeNames.length ? dedupe(routeNames) : [];
  if (!routeNames.length) return [listenerName];
  const out = routeNames
    .map((h) => intersectHostname(listenerName, h))
    .filter((h): h is string => h !== undefined);
  return out.length ? dedupe(out) : undefined;
}

function dedupe(list: string[]): string[] {
  return [...new Set(list)];
}

/**
 * Strips the port and lower-cases a Host header or :authority (`Foo.com:8080` → `foo.com`, `[::1]:80` →
 * `::1`). Returns '' for an absent host.
 */
export function normalizeHost(raw: string | undefined): string {
  if (!raw) return '';
  let host = raw;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const end = host.indexOf(']');
    host = end > 0 ? host.slice(1, end) : host;
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host.toLowerCase();
}

/** Specificity of a hostname for ordering: exact names first, then wildcards by length. */
export function hostnameRank(hostname: string | undefined): number {
  if (!hostname) return 0;
  return hostname.startsWith('*.') ? 1_000 + hostname.length : 1_000_000 + hostname.length;
}
