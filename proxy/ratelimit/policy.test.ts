import { describe, expect, it } from 'vitest';
import { registry } from '../../lib/metrics.ts';
import type { RateLimit } from '../../api/ratelimitpolicy.ts';
import type { PolicyVerdict } from '../request-policy.ts';
import { LocalStore } from './local-store.ts';
import { RateLimitRequestPolicy, type RateLimitHeaderOptions } from './policy.ts';
import type { ConsumeResult, RateLimitStore } from './store.ts';
import { rateLimitPolicy, request } from '../../test/helpers/ratelimit.ts';

function setup(limits: RateLimit[], opts: { headers?: RateLimitHeaderOptions; store?: RateLimitStore } = {}) {
  const clock = { now: 0 };
  const store = opts.store ?? new LocalStore({ clock: () => clock.now });
  const policy = new RateLimitRequestPolicy({
    policy: rateLimitPolicy({ limits }),
    scope: 'HTTPRoute/team/api',
    store,
    headers: opts.headers,
  });
  return { clock, policy };
}

function sync(v: PolicyVerdict | Promise<PolicyVerdict>): PolicyVerdict {
  if (v instanceof Promise) throw new Error('expected a synchronous verdict from the local store');
  return v;
}

describe('RateLimitRequestPolicy', () => {
  it('allows N with X-RateLimit headers, answers N+1 with 429 and Retry-After, and resets after the unit', () => {
    const { clock, policy } = setup([{ name: 'all', requests: 3, unit: 'Minute' }]);
    const verdicts = [1, 2, 3, 4].map(() => sync(policy.evaluate(request())));
    expect(verdicts.slice(0, 3).map((v) => v.headers?.['x-ratelimit-remaining'])).toEqual(['2', '1', '0']);
    expect(verdicts[0]!.headers).toEqual({
      'x-ratelimit-limit': '3',
      'x-ratelimit-remaining': '2',
      'x-ratelimit-reset': '20',
    });
    expect(verdicts[3]).toEqual({
      allow: false,
      status: 429,
      reason: 'rate limit all of RateLimitPolicy team/limits exceeded (3 per minute)',
      headers: {
        'retry-after': '20',
        'x-ratelimit-limit': '3',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': '60',
      },
    });
    clock.now = 60_000;
    expect([1, 2, 3, 4].map(() => sync(policy.evaluate(request())).allow)).toEqual([true, true, true, false]);
  });

  it('can leave the X-RateLimit headers off (Retry-After stays on a 429)', () => {
    const { policy } = setup([{ name: 'all', requests: 1, unit: 'Second' }], {
      headers: { onAllowed: false, onLimited: false },
    });
    expect(sync(policy.evaluate(request()))).toEqual({ allow: true });
    expect(sync(policy.evaluate(request()))).toMatchObject({ status: 429, headers: { 'retry-after': '1' } });
    expect(Object.keys(sync(policy.evaluate(request())).headers ?? {})).toEqual(['retry-after']);
  });

  it('counts each distinct header value apart, and skips requests without the header', () => {
    const { policy } = setup([
      {
        name: 'per-key',
        requests: 2,
        unit: 'Hour',
        clientSelectors: [{ headers: [{ name: 'X-API-Key', type: 'Distinct' }] }],
      },
    ]);
    const withKey = (k: string) => request({ headers: { 'x-api-key': k } });
    expect([1, 2, 3].map(() => sync(policy.evaluate(withKey('alpha'))).allow)).toEqual([true, true, false]);
    expect([1, 2, 3].map(() => sync(policy.evaluate(withKey('beta'))).allow)).toEqual([true, true, false]);
    // no key: the limit does not apply, so no counter and no headers
    expect(sync(policy.evaluate(request()))).toEqual({ allow: true });
  });

  it('applies an Exact header limit only to that value, with one shared counter', () => {
    const { policy } = setup([
      {
        name: 'free',
        requests: 1,
        unit: 'Hour',
        clientSelectors: [{ headers: [{ name: 'x-plan', type: 'Exact', value: 'free' }] }],
      },
    ]);
    const plan = (p: string, ip: string) => request({ headers: { 'x-plan': p }, sourceIp: ip });
    expect(sync(policy.evaluate(plan('free', '10.0.0.1'))).allow).toBe(true);
    expect(sync(policy.evaluate(plan('free', '10.0.0.2'))).allow).toBe(false);
    expect(sync(policy.evaluate(plan('pro', '10.0.0.3')))).toEqual({ allow: true });
  });

  it('keys sourceCIDR Distinct per address inside the CIDR and Exact as one counter', () => {
    const { policy } = setup([
      {
        name: 'per-ip',
        requests: 1,
        unit: 'Hour',
        clientSelectors: [{ sourceCIDR: { type: 'Distinct', value: '10.0.0.0/8' } }],
      },
      {
        name: 'office',
        requests: 2,
        unit: 'Hour',
        clientSelectors: [{ sourceCIDR: { type: 'Exact', value: '192.168.0.0/16' } }],
      },
    ]);
    const from = (ip: string) => sync(policy.evaluate(request({ sourceIp: ip }))).allow;
    expect([from('10.0.0.1'), from('::ffff:10.0.0.1'), from('10.0.0.2')]).toEqual([true, false, true]);
    expect([from('192.168.1.1'), from('192.168.2.2'), from('192.168.3.3')]).toEqual([true, true, false]);
    expect([from('172.16.0.1'), from('172.16.0.1')]).toEqual([true, true]); // in no CIDR: unlimited
  });

  it('applies a limit only when all its selectors match', () => {
    const { policy } = setup([
      {
        name: 'both',
        requests: 1,
        unit: 'Hour',
        clientSelectors: [
          { headers: [{ name: 'x-tenant', type: 'Distinct' }] },
          { sourceCIDR: { type: 'Exact', value: '10.0.0.0/8' } },
        ],
      },
    ]);
    const req = (tenant: string | undefined, ip: string) =>
      sync(policy.evaluate(request({ sourceIp: ip, headers: tenant ? { 'x-tenant': tenant } : {} }))).allow;
    expect([req('a', '10.0.0.1'), req('a', '10.9.9.9')]).toEqual([true, false]);
    expect([req('a', '8.8.8.8'), req('a', '8.8.8.8')]).toEqual([true, true]);
    expect([req(undefined, '10.0.0.1'), req(undefined, '10.0.0.1')]).toEqual([true, true]);
  });

  it('answers with the most constrained limit: headers of the tightest, 429 from the one that refused', () => {
    const { policy } = setup([
      { name: 'burst', requests: 2, unit: 'Second' },
      { name: 'daily', requests: 3, unit: 'Day' },
    ]);
    expect(sync(policy.evaluate(request())).headers).toMatchObject({
      'x-ratelimit-limit': '2',
      'x-ratelimit-remaining': '1',
    });
    expect(sync(policy.evaluate(request())).headers).toMatchObject({
      'x-ratelimit-limit': '2',
      'x-ratelimit-remaining': '0',
    });
    const refused = sync(policy.evaluate(request()));
    expect(refused).toMatchObject({ status: 429, headers: { 'x-ratelimit-limit': '2', 'retry-after': '1' } });
  });

  it('never admits more than the limit out of 1,000 concurrent evaluations', async () => {
    const { policy } = setup([{ name: 'all', requests: 100, unit: 'Minute' }]);
    const verdicts = await Promise.all(Array.from({ length: 1_000 }, async () => policy.evaluate(request())));
    expect(verdicts.filter((v) => v.allow)).toHaveLength(100);
  });

  it('maps an unavailable store to its fail mode: allow without headers, or 503', async () => {
    const unavailable = (allowed: boolean): RateLimitStore => ({
      kind: 'redis',
      consume: async (): Promise<ConsumeResult> => ({ kind: 'unavailable', allowed }),
      close: async () => {},
    });
    const open = setup([{ name: 'all', requests: 1, unit: 'Second' }], { store: unavailable(true) }).policy;
    const closed = setup([{ name: 'all', requests: 1, unit: 'Second' }], {
      store: unavailable(false),
    }).policy;
    expect(await open.evaluate(request())).toEqual({ allow: true });
    expect(await closed.evaluate(request())).toEqual({
      allow: false,
      status: 503,
      reason: 'rate-limit store unavailable',
      headers: { 'retry-after': '1' },
    });
  });

  it('counts decisions per policy in tenantgate_ratelimit_decisions_total', async () => {
    const { policy } = setup([{ name: 'all', requests: 2, unit: 'Hour' }]);
    for (let i = 0; i < 5; i++) policy.evaluate(request());
    const text = await registry.getSingleMetricAsString('tenantgate_ratelimit_decisions_total');
    expect(text).toContain('tenantgate_ratelimit_decisions_total{policy="team/limits",decision="allowed"}');
    const value = (d: string) =>
      Number(new RegExp(`policy="team/limits",decision="${d}"} (\\d+)`).exec(text)?.[1]);
    // other tests in this file used the same policy name: compare what this one added
    expect(value('limited')).toBeGreaterThanOrEqual(3);
    const before = value('limited');
    policy.evaluate(request());
    const after = await registry.getSingleMetricAsString('tenantgate_ratelimit_decisions_total');
    expect(Number(new RegExp(`policy="team/limits",decision="limited"} (\\d+)`).exec(after)?.[1])).toBe(
      before + 1,
    );
  });
});
