// A flood of distinct client keys (every request a new API key) against a capped local store: the
// counters and the heap stay bounded, while an uncapped store grows with the flood.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { LocalStore } from '../../proxy/ratelimit/local-store.ts';
import { RateLimitRequestPolicy } from '../../proxy/ratelimit/policy.ts';
import { rateLimitPolicy, request } from '../helpers/ratelimit.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function flood(maxKeys: number, requests: number): { growth: number; peak: number } {
  const store = new LocalStore({ maxKeys });
  const policy = new RateLimitRequestPolicy({
    policy: rateLimitPolicy({
      limits: [
        {
          name: 'per-key',
          requests: 10,
          unit: 'Minute',
          clientSelectors: [{ headers: [{ name: 'x-api-key', type: 'Distinct' }] }],
        },
      ],
    }),
    scope: 'HTTPRoute/team/api',
    store,
  });
  const before = heapAfterGc();
  let peak = 0;
  for (let i = 0; i < requests; i++) {
    policy.evaluate(request({ headers: { 'x-api-key': `spoofed-key-${i}-${'x'.repeat(64)}` } }));
    if (store.size > peak) peak = store.size;
  }
  const growth = heapAfterGc() - before;
  void store.close();
  return { growth, peak };
}

describe('local store under a flood of distinct keys', () => {
  it('holds at most maxKeys counters and its heap stays flat, where an uncapped one grows', () => {
    const capped = flood(5_000, 200_000);
    const uncapped = flood(1_000_000, 200_000);
    expect(capped.peak).toBeLessThanOrEqual(5_000);
    expect(uncapped.peak).toBe(200_000);
    // 5,000 counters are about 1 MB; 200,000 are tens of MB
    expect(capped.growth).toBeLessThan(4 * 1024 * 1024);
    expect(uncapped.growth).toBeGreaterThan(10 * capped.growth);
    console.log(
      `flood of 200k keys: capped(5k) heap +${(capped.growth / 1e6).toFixed(1)} MB, uncapped +${(uncapped.growth / 1e6).toFixed(1)} MB ` +
        `(${Math.round(uncapped.growth / 200_000)} B per counter)`,
    );
  });
});
