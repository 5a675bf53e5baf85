import { describe, expect, it } from 'vitest';
import { registry } from '../../lib/metrics.ts';
import { gcraLimit } from './gcra.ts';
import { LocalStore } from './local-store.ts';
import type { ConsumeResult } from './store.ts';

const perSecond = (n: number) => gcraLimit(n, 1000);

function allowed(r: ConsumeResult): boolean {
  return r.allowed;
}

describe('LocalStore', () => {
  it('allows N, refuses N+1, and resets after the unit (injected clock)', () => {
    let now = 1_000;
    const store = new LocalStore({ clock: () => now });
    const check = [{ key: 'k', limit: perSecond(3) }];
    expect([1, 2, 3, 4].map(() => allowed(store.consume(check)))).toEqual([true, true, true, false]);
    now += 333; // one request refills every 333.3 ms
    expect(allowed(store.consume(check))).toBe(false);
    now += 667; // a full unit after the burst: the whole burst is back
    expect([1, 2, 3, 4].map(() => allowed(store.consume(check)))).toEqual([true, true, true, false]);
  });

  it('counts distinct keys apart', () => {
    const store = new LocalStore({ clock: () => 0 });
    const a = [{ key: 'a', limit: perSecond(1) }];
    const b = [{ key: 'b', limit: perSecond(1) }];
    expect([a, b, a, b].map((c) => allowed(store.consume(c)))).toEqual([true, true, false, false]);
  });

  it('charges all counters of a request or none', () => {
    const store = new LocalStore({ clock: () => 0 });
    const tight = { key: 'tight', limit: perSecond(1) };
    const loose = { key: 'loose', limit: perSecond(3) };
    expect(allowed(store.consume([tight, loose]))).toBe(true);
    const refused = store.consume([tight, loose]);
    expect(refused).toMatchObject({ kind: 'decided', allowed: false });
    // the refused request did not consume "loose": two are left
    expect(allowed(store.consume([loose]))).toBe(true);
    expect(allowed(store.consume([loose]))).toBe(true);
    expect(allowed(store.consume([loose]))).toBe(false);
  });

  it('never holds more than maxKeys counters under a flood of distinct keys', async () => {
    const store = new LocalStore({ maxKeys: 1_000, clock: () => 0 });
    let peak = 0;
    for (let i = 0; i < 100_000; i++) {
      store.consume([{ key: `flood-${i}`, limit: perSecond(10) }]);
      peak = Math.max(peak, store.size);
    }
    expect(peak).toBeLessThanOrEqual(1_000);
    expect(store.size).toBeGreaterThan(0);
    const metrics = await registry.getSingleMetricAsString('tenantgate_ratelimit_local_evictions_total');
    expect(Number(/ (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(100_000 - 1_000);
  });

  it('keeps a client that keeps coming back through a flood (no fresh burst for it)', () => {
    const store = new LocalStore({ maxKeys: 100, clock: () => 0 });
    const hot = [{ key: 'hot', limit: perSecond(2) }];
    store.consume(hot);
    store.consume(hot);
    for (let i = 0; i < 10_000; i++) {
      store.consume([{ key: `flood-${i}`, limit: perSecond(10) }]);
      // refused every time, yet never forgotten: refusals touch the counter too
      if (i % 20 === 0) expect(allowed(store.consume(hot))).toBe(false);
    }
  });

  it('forgets an idle client once the cap forces it (documented: it gets a fresh burst)', () => {
    const store = new LocalStore({ maxKeys: 100, clock: () => 0 });
    const idle = [{ key: 'idle', limit: perSecond(1) }];
    store.consume(idle);
    expect(allowed(store.consume(idle))).toBe(false);
    for (let i = 0; i < 100; i++) store.consume([{ key: `other-${i}`, limit: perSecond(1) }]);
    expect(allowed(store.consume(idle))).toBe(true);
  });
});
