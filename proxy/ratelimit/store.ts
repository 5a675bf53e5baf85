// What a rate-limit policy needs from counter storage. Two implementations: the in-process LocalStore
// (default; per-replica counters) and the RedisStore (counters shared by every replica).
import type { CounterState, GcraLimit } from './gcra.ts';

export interface CounterCheck {
  /** the full counter key (policy, scope, limit and client identity); stable across route-table reloads */
  readonly key: string;
  readonly limit: GcraLimit;
}

export type ConsumeResult =
  /** `counters[i]` answers `checks[i]`; counters are charged only when every one of them allows */
  | { readonly kind: 'decided'; readonly allowed: boolean; readonly counters: readonly CounterState[] }
  /** the store could not decide (Redis unreachable); `allowed` is the configured fail mode */
  | { readonly kind: 'unavailable'; readonly allowed: boolean };

export interface RateLimitStore {
  readonly kind: 'local' | 'redis';
  /** Local stores answer synchronously, so a request that hits no remote store never awaits. */
  consume(checks: readonly CounterCheck[]): ConsumeResult | Promise<ConsumeResult>;
  close(): Promise<void>;
}
