// Gateway API Duration strings (GEP-2257): one to four number+unit pairs, units h, m, s, ms; "0s" is zero.

const PART = /(\d{1,5})(ms|h|m|s)/gy;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

/** Milliseconds, or undefined when the string is not a valid Gateway API Duration. */
export function parseDuration(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let parts = 0;
  let m: RegExpExecArray | null;
  while ((m = PART.exec(value)) !== null) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
    parts++;
    if (PART.lastIndex === value.length) break;
  }
  if (parts === 0 || parts > 4 || PART.lastIndex !== value.length) return undefined;
  return total;
}
