// Removes the properties whose value is undefined, in place, through plain objects and arrays. The
// compiler writes optional fields as `field: value ?? undefined`; without this, a JSON round trip (which
// drops them) would not give back the same IR that structuredClone does.
export function pruneUndefined<T>(value: T): T {
  const seen = new Set<object>();
  const visit = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      if (o[k] === undefined) delete o[k];
      else visit(o[k]);
    }
  };
  visit(value);
  return value;
}
