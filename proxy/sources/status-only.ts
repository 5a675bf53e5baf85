// Whether a watch update changed only what the proxy itself writes (status) or what the API server
// maintains (resourceVersion, managedFields). The proxy writes Gateway, route and policy status after each
// reload; without this filter every write would come back as an update and trigger another compile.
const IGNORED_METADATA = new Set(['resourceVersion', 'managedFields']);

/** Any object as watched (the wire type leaves metadata optional). */
interface Watched {
  metadata?: object;
}

function withoutStatus(obj: Watched): string {
  return JSON.stringify(obj, function (key, value: unknown) {
    if (this === obj && key === 'status') return undefined;
    if (this === obj.metadata && IGNORED_METADATA.has(key)) return undefined;
    return value;
  });
}

export function onlyStatusChanged(next: Watched, previous: Watched | undefined): boolean {
  if (!previous) return false;
  if (next === previous) return true;
  return withoutStatus(next) === withoutStatus(previous);
}
