import { describe, expect, it } from 'vitest';
import { gcraCheck, gcraLimit, UNIT_MS } from './gcra.ts';

/** Runs `count` requests at `now` against one counter, returning how many were admitted. */
function burst(
  state: { tat: number | undefined },
  now: number,
  count: number,
  limit = gcraLimit(5, 1000),
): number {
  let admitted = 0;
  for (let i = 0; i < count; i++) {
    const r = gcraCheck(state.tat, now, limit);
    if (r.allowed) {
      admitted++;
      state.tat = r.newTat;
    }
  }
  return admitted;
}

describe('gcraCheck', () => {
  it('admits N at once, refuses the N+1th, and is full again one unit later', () => {
    const state = { tat: undefined as number | undefined };
    expect(burst(state, 0, 5)).toBe(5);
    const refused = gcraCheck(state.tat, 0, gcraLimit(5, 1000));
    expect(refused).toMatchObject({ allowed: false, remaining: 0, retryAfterMs: 200, resetMs: 1000 });
    expect(burst(state, 1000, 6)).toBe(5);
  });

  it('refills one request per period/N', () => {
    const state = { tat: undefined as number | undefined };
    burst(state, 0, 5);
    expect(burst(state, 199, 1)).toBe(0);
    expect(burst(state, 200, 2)).toBe(1);
    expect(burst(state, 400, 1)).toBe(1);
  });

  it('reports remaining and reset as the headers need them', () => {
    const limit = gcraLimit(3, 1000);
    const a = gcraCheck(undefined, 0, limit);
    expect(a).toMatchObject({ allowed: true, remaining: 2, retryAfterMs: 0 });
    expect(a.resetMs).toBeCloseTo(333.33, 1);
    const b = gcraCheck(a.newTat, 0, limit);
    const c = gcraCheck(b.newTat, 0, limit);
    expect([b.remaining, c.remaining]).toEqual([1, 0]);
    expect(c.resetMs).toBeCloseTo(1000, 6);
  });

  it('does not drift with intervals that are not whole ms (7 per second over 10,000 s)', () => {
    const limit = gcraLimit(7, UNIT_MS.Second);
    const state = { tat: undefined as number | undefined };
    let admitted = 0;
    for (let t = 0; t < 10_000_000; t += 1000) admitted += burst(state, t, 10, limit);
    expect(admitted).toBe(7 * 10_000);
  });

  it('admits exactly rate x time plus the burst to a client that never stops asking', () => {
    const limit = gcraLimit(10, UNIT_MS.Minute);
    const state = { tat: undefined as number | undefined };
    let admitted = 0;
    for (let t = 0; t <= 3_600_000; t += 250) admitted += burst(state, t, 1, limit);
    // 10 at once, then one every 6 s for an hour
    expect(admitted).toBe(10 + 600);
  });
});
