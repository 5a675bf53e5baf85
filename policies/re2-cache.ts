// Compiled RE2 patterns for the regex builtins the Node side provides (builtins.ts), kept across
// evaluations. opa-wasm's own regex.match compiles its pattern with the RE2 built into the module on every
// evaluation (the module's heap, and with it any cache, is reset after each one): ~55 µs per request for
// require-headers with a pattern. Here a pattern is compiled once (re2js, a port of RE2: the same syntax
// and linear-time matching as OPA's Go regexp, so a tenant's pattern cannot backtrack catastrophically on
// a client's header) and reused until evicted. Bounded: at most `max` patterns (lib/bounded-map.ts).
import { RE2JS } from 're2js';
import { BoundedMap } from '../lib/bounded-map.ts';
import { defineError } from '../lib/errors.ts';

export const InvalidPatternError = defineError(
  'TG_POLICY_INVALID_REGEX',
  'invalid regular expression %s: %s (policies use RE2 syntax: no backreferences or lookaround)',
);

export const DEFAULT_MAX_PATTERNS = 512;

type Compiled = { ok: true; re: RE2JS } | { ok: false; pattern: string; error: string };

export class Re2Cache {
  readonly #entries: BoundedMap<string, Compiled>;
  #compilations = 0;

  constructor(max = DEFAULT_MAX_PATTERNS) {
    this.#entries = new BoundedMap(max);
  }

  get max(): number {
    return this.#entries.max;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** How many patterns were compiled (misses), for tests and benchmarks. */
  get compilations(): number {
    return this.#compilations;
  }

  /** The compiled pattern; throws (every time, without recompiling) when it is not valid RE2 syntax. */
  get(pattern: string): RE2JS {
    let entry = this.#entries.get(pattern);
    if (!entry) {
      entry = this.#compile(pattern);
      this.#entries.set(pattern, entry);
    }
    if (!entry.ok) throw new InvalidPatternError([JSON.stringify(entry.pattern), entry.error]);
    return entry.re;
  }

  #compile(pattern: string): Compiled {
    this.#compilations++;
    try {
      return { ok: true, re: RE2JS.compile(pattern) };
    } catch (err) {
      return { ok: false, pattern, error: String(err) };
    }
  }
}

/**
 * Up to `n` successive non-overlapping matches of `pattern` in `value` (n < 0: all), as OPA's
 * regex.find_n answers them (Go's Regexp.FindAllString).
 */
export function findN(cache: Re2Cache, pattern: string, value: string, n: number): string[] {
  const out: string[] = [];
  if (n === 0) return out;
  const m = cache.get(pattern).matcher(value);
  let previousEnd = -1;
  while ((n < 0 || out.length < n) && m.find()) {
    // as in Go: an empty match right where the previous match ended is not a match of its own
    if (m.start() === m.end() && m.start() === previousEnd) continue;
    previousEnd = m.end();
    out.push(m.group() ?? '');
  }
  return out;
}
