// GCRA (generic cell rate algorithm), the counting rule behind every limit: "N requests per unit" is a
// sustained rate of N/unit with a burst of N. The whole state of a counter is one number, the theoretical
// arrival time (TAT) of the next request; there are no windows to roll and nothing to sweep. The Redis
// script (redis-script.ts) is the same arithmetic in Lua; keep the two in step.
import type { RateUnit } from '../../api/common.ts';

export const UNIT_MS: Readonly<Record<RateUnit, number>> = {
  Second: 1_000,
  Minute: 60_000,
  Hour: 3_600_000,
  Day: 86_400_000,
};

/** See gcraCheck; redis-script.ts uses the same value. */
export const MAX_SLACK_MS = 0.05;

/** A limit reduced to what the arithmetic needs. */
export interface GcraLimit {
  /** requests allowed per period (the burst) */
  readonly requests: number;
  /** the unit, in ms */
  readonly periodMs: number;
  /** periodMs / requests: the spacing that one request "costs" */
  readonly intervalMs: number;
}

export function gcraLimit(requests: number, periodMs: number): GcraLimit {
  return { requests, periodMs, intervalMs: periodMs / requests };
}

/** The outcome of checking one counter, in the terms the response headers need. */
export interface CounterState {
  allowed: boolean;
  /** requests still allowed right now after this one (0 when refused) */
  remaining: number;
  /** ms until the counter is back to its full burst */
  resetMs: number;
  /** ms until one request would be allowed (0 when allowed) */
  retryAfterMs: number;
}

/**
 * One step of GCRA for a counter whose stored TAT is `storedTat` (undefined: never seen). Returns whether
 * a request arriving at `now` conforms and the TAT to store if it is admitted. Admission tests
 * `newTat - now <= period` with a slack of at most 0.05 ms: intervals are fractions of a ms, and the slack
 * absorbs the rounding of a burst of additions so the Nth request of a burst is never refused by a
 * rounding error. It is below half an interval, so it can never admit an extra request, only one that
 * arrives up to 0.05 ms early.
 */
export function gcraCheck(
  storedTat: number | undefined,
  now: number,
  limit: GcraLimit,
): CounterState & { newTat: number } {
  const tat = storedTat === undefined || storedTat < now ? now : storedTat;
  const newTat = tat + limit.intervalMs;
  const slack = Math.min(limit.intervalMs / 2, MAX_SLACK_MS);
  if (newTat - now <= limit.periodMs + slack) {
    const remaining = Math.floor((limit.periodMs - (newTat - now)) / limit.intervalMs + 0.5);
    return {
      allowed: true,
      newTat,
      remaining: clamp(remaining, 0, limit.requests - 1),
      resetMs: newTat - now,
      retryAfterMs: 0,
    };
  }
  return {
    allowed: false,
    newTat: tat,
    remaining: 0,
    resetMs: tat - now,
    retryAfterMs: newTat - limit.periodMs - now,
  };
}

function clamp(n: number, lo: number, hi: number): number {
  return n < lo ? lo : n > hi ? hi : n;
}
