// In-process counters with a hard cap on their number. A flood of distinct client keys (spoofed API keys,
// a botnet) must not grow memory without bound, and per-request cost must stay O(1) with no timer per key.
//
// Eviction is two-generation ("segmented") LRU (lib/bounded-map.ts): counters live in a young Map; when
// it reaches half the cap it becomes the old Map and the previous old Map is dropped whole. Any access
// moves a counter back to the young Map, so a client seen within the last maxKeys/2 distinct keys is
// never forgotten, and at most maxKeys counters exist at any time. Dropping a counter is harmless once
// its TAT has passed (it is then equivalent to "never seen"); dropping a live one gives that client a
// fresh burst, which is the documented price of the cap.
import { BoundedMap } from '../../lib/bounded-map.ts';
import { gcraCheck, type CounterState } from './gcra.ts';
import { localEvictionsTotal, trackLocalStore } from './metrics.ts';
import type { ConsumeResult, CounterCheck, RateLimitStore } from './store.ts';

export interface LocalStoreOptions {
  /** most counters held at once; default 100,000 (about 20 MB, see docs/rate-limits.md) */
  maxKeys?: number;
  /** ms clock; only differences matter. Default: the monotonic performance.now() */
  clock?: () => number;
}

export const DEFAULT_LOCAL_MAX_KEYS = 100_000;

export class LocalStore implements RateLimitStore {
  readonly kind = 'local' as const;
  readonly maxKeys: number;
  private readonly clock: () => number;
  private readonly counters: BoundedMap<string, number>;
  private readonly untrack: () => void;

  constructor(options: LocalStoreOptions = {}) {
    this.counters = new BoundedMap(options.maxKeys ?? DEFAULT_LOCAL_MAX_KEYS, (n) =>
      localEvictionsTotal.inc(n),
    );
    this.maxKeys = this.counters.max;
    this.clock = options.clock ?? (() => performance.now());
    this.untrack = trackLocalStore(this);
  }

  get size(): number {
    return this.counters.size;
  }

  consume(checks: readonly CounterCheck[]): ConsumeResult {
    const now = this.clock();
    if (checks.length === 1) return this.consumeOne(checks[0]!, now);
    const counters: (CounterState & { newTat: number })[] = [];
    let allowed = true;
    for (const check of checks) {
      const state = gcraCheck(this.counters.get(check.key), now, check.limit);
      if (!state.allowed) allowed = false;
      counters.push(state);
    }
    // Charge every counter or none, so a request refused by one limit does not eat the others' quota.
    if (allowed)
      for (let i = 0; i < checks.length; i++) this.counters.set(checks[i]!.key, counters[i]!.newTat);
    return { kind: 'decided', allowed, counters };
  }

  async close(): Promise<void> {
    this.counters.clear();
    this.untrack();
  }

  private consumeOne(check: CounterCheck, now: number): ConsumeResult {
    // a read moves a counter of the old generation back to the young one (an LRU touch), refusals included
    const state = gcraCheck(this.counters.get(check.key), now, check.limit);
    if (state.allowed) this.counters.set(check.key, state.newTat);
    return { kind: 'decided', allowed: state.allowed, counters: [state] };
  }
}

export function createLocalStore(options: LocalStoreOptions = {}): LocalStore {
  return new LocalStore(options);
}
