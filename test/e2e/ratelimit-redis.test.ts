// The Redis store against a real redis-server: exact GCRA in Lua, one global limit across independent
// connections (as two proxy replicas would hold), the fail modes when Redis dies, and recovery when a new
// server comes back on the same port.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../lib/metrics.ts';
import { LocalStore } from '../../proxy/ratelimit/local-store.ts';
import { RateLimitRequestPolicy } from '../../proxy/ratelimit/policy.ts';
import { RedisStore, type RedisStoreOptions } from '../../proxy/ratelimit/redis-store.ts';
import type { RateLimitStore } from '../../proxy/ratelimit/store.ts';
import { rateLimitPolicy, request } from '../helpers/ratelimit.ts';
import type { RateLimit } from '../../api/ratelimitpolicy.ts';
import type { PolicyVerdict } from '../../proxy/request-policy.ts';
import { startRedis, type RedisServer } from '../env/redis.ts';
import { uniqueName } from '../env/names.ts';

let server: RedisServer;
const stores: RateLimitStore[] = [];

beforeAll(async () => {
  server = await startRedis();
});

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close()));
  await server?.stop();
});

async function redisStore(options: RedisStoreOptions = {}): Promise<RedisStore> {
  const store = new RedisStore({
    url: server.url,
    commandTimeoutMs: 2_000,
    maxReconnectDelayMs: 100,
    ...options,
  });
  stores.push(store);
  await store.ready();
  return store;
}

function policyOn(store: RateLimitStore, limits: RateLimit[]): RateLimitRequestPolicy {
  // a unique policy name per test: counters never leak between tests sharing the server
  return new RateLimitRequestPolicy({
    policy: rateLimitPolicy({ name: uniqueName('rl'), limits }),
    scope: 'HTTPRoute/team/api',
    store,
  });
}

async function metricValue(name: string, labels: Record<string, string>): Promise<number> {
  const text = await registry.getSingleMetricAsString(name);
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(name) && want.every((w) => l.includes(w)));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('RedisStore', () => {
  it('gives the same verdicts and headers as the local store for the same clock (Lua = TypeScript)', async () => {
    let now = Date.now();
    const redis = await redisStore({ clock: () => now });
    const local = new LocalStore({ clock: () => now });
    const limits: RateLimit[] = [
      { name: 'burst', requests: 3, unit: 'Second' },
      { name: 'slow', requests: 7, unit: 'Minute' },
    ];
    const name = uniqueName('same');
    const make = (store: RateLimitStore) =>
      new RateLimitRequestPolicy({ policy: rateLimitPolicy({ name, limits }), scope: 's', store });
    const [onRedis, onLocal] = [make(redis), make(local)];
    const steps = [0, 0, 0, 0, 100, 250, 333, 1000, 1, 1, 1, 1, 5000, 0, 0, 0, 0, 60_000, 0];
    for (const step of steps) {
      now += step;
      expect(await onRedis.evaluate(request())).toEqual(await onLocal.evaluate(request()));
    }
  });

  it('allows N, refuses N+1, and resets after a real 1-second unit', async () => {
    const policy = policyOn(await redisStore(), [{ name: 'per-second', requests: 5, unit: 'Second' }]);
    const first = await Promise.all([1, 2, 3, 4, 5, 6].map(() => policy.evaluate(request())));
    expect(first.map((v) => v.allow)).toEqual([true, true, true, true, true, false]);
    expect(first[5]).toMatchObject({
      status: 429,
      headers: { 'retry-after': '1', 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '0' },
    });
    await new Promise((r) => setTimeout(r, 1_050));
    const again = await Promise.all([1, 2, 3, 4, 5, 6].map(() => policy.evaluate(request())));
    expect(again.map((v) => v.allow)).toEqual([true, true, true, true, true, false]);
  });

  it('counts distinct header values apart', async () => {
    const policy = policyOn(await redisStore(), [
      {
        name: 'per-key',
        requests: 2,
        unit: 'Hour',
        clientSelectors: [{ headers: [{ name: 'x-api-key', type: 'Distinct' }] }],
      },
    ]);
    const key = (k: string) => request({ headers: { 'x-api-key': k } });
    const verdicts = [];
    for (const k of ['a', 'b', 'a', 'b', 'a', 'b', 'c']) verdicts.push((await policy.evaluate(key(k))).allow);
    expect(verdicts).toEqual([true, true, true, true, false, false, true]);
  });

  it('never admits more than the limit out of 1,000 concurrent evaluations', async () => {
    const policy = policyOn(await redisStore(), [{ name: 'hourly', requests: 100, unit: 'Hour' }]);
    const started = performance.now();
    const verdicts = await Promise.all(Array.from({ length: 1_000 }, () => policy.evaluate(request())));
    const elapsed = performance.now() - started;
    // GCRA refills one request per 36 s here; the documented tolerance under concurrency is zero.
    const bound = 100 + Math.floor(elapsed / 36_000);
    expect(verdicts.filter((v) => v.allow).length).toBe(bound);
    expect(verdicts.every((v) => v.headers?.['x-ratelimit-limit'] === '100')).toBe(true); // all decided, none failed open
  });

  it('enforces one global limit through two independent connections (two proxy replicas)', async () => {
    const [a, b] = [await redisStore({ name: 'replica-a' }), await redisStore({ name: 'replica-b' })];
    expect(a.redis).not.toBe(b.redis);
    const name = uniqueName('global');
    const limits: RateLimit[] = [{ name: 'hourly', requests: 150, unit: 'Hour' }];
    const [pa, pb] = [a, b].map(
      (store) => new RateLimitRequestPolicy({ policy: rateLimitPolicy({ name, limits }), scope: 's', store }),
    );
    const all = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => (i % 2 ? pa! : pb!).evaluate(request())),
    );
    expect(all.filter((v) => v.allow).length).toBe(150);
    expect(all.every((v) => v.headers?.['x-ratelimit-limit'] === '150')).toBe(true);
  });

  it('charges all counters of a request or none, atomically', async () => {
    const policy = policyOn(await redisStore(), [
      {
        name: 'tight',
        requests: 1,
        unit: 'Hour',
        clientSelectors: [{ headers: [{ name: 'x-tight', type: 'Exact', value: 'y' }] }],
      },
      { name: 'loose', requests: 3, unit: 'Hour' },
    ]);
    const tight = request({ headers: { 'x-tight': 'y' } });
    const verdicts = [];
    for (const r of [tight, tight, request(), request(), request()])
      verdicts.push((await policy.evaluate(r)).allow);
    // the second request, refused by "tight", did not consume "loose"
    expect(verdicts).toEqual([true, false, true, true, false]);
  });

  it('reloads the script after NOSCRIPT (SCRIPT FLUSH), once for a burst', async () => {
    const store = await redisStore({ name: 'noscript' });
    const policy = policyOn(store, [{ name: 'hourly', requests: 10, unit: 'Hour' }]);
    await policy.evaluate(request());
    const loadsBefore = await metricValue('tenantgate_ratelimit_redis_script_loads_total', {
      store: 'noscript',
    });
    const admin = new Redis(server.url);
    await admin.script('FLUSH');
    await admin.quit();
    const verdicts = await Promise.all(Array.from({ length: 20 }, () => policy.evaluate(request())));
    expect(verdicts.filter((v) => v.allow)).toHaveLength(9);
    expect(await metricValue('tenantgate_ratelimit_redis_script_loads_total', { store: 'noscript' })).toBe(
      loadsBefore + 1,
    );
  });

  it('keeps Redis memory bounded: counters expire once they are back to a full burst', async () => {
    const store = await redisStore({ keyPrefix: 'ttl-test:' });
    const policy = policyOn(store, [{ name: 'x', requests: 10, unit: 'Second' }]);
    await policy.evaluate(request());
    const admin = new Redis(server.url);
    const [key] = await admin.keys('ttl-test:*');
    const ttl = await admin.pttl(key!);
    await admin.quit();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(100); // one interval: 1 s / 10
  });
});

describe('RedisStore when Redis dies', () => {
  it('fails open by default (metric counted), then enforces again once a new server is up on the same port', async () => {
    const own = await startRedis();
    try {
      const store = await redisStore({ url: own.url, name: 'dies-open', commandTimeoutMs: 500 });
      const policy = policyOn(store, [{ name: 'hourly', requests: 3, unit: 'Hour' }]);
      const before = await Promise.all([1, 2, 3, 4].map(() => policy.evaluate(request())));
      expect(before.map((v) => v.allow)).toEqual([true, true, true, false]);

      await own.kill();
      const during: PolicyVerdict[] = [];
      for (let i = 0; i < 20; i++) during.push(await policy.evaluate(request()));
      expect(during.every((v) => v.allow && v.headers === undefined)).toBe(true);
      expect(
        await metricValue('tenantgate_ratelimit_store_unavailable_total', {
          store: 'dies-open',
          mode: 'open',
        }),
      ).toBe(20);
      expect(await metricValue('tenantgate_ratelimit_redis_connected', { store: 'dies-open' })).toBe(0);

      const back = await startRedis({ port: own.port });
      try {
        await store.ready(15_000);
        // the new server is empty: a fresh burst, then enforcement again
        const after = await Promise.all([1, 2, 3, 4].map(() => policy.evaluate(request())));
        expect(after.map((v) => v.allow)).toEqual([true, true, true, false]);
        expect(await metricValue('tenantgate_ratelimit_redis_connected', { store: 'dies-open' })).toBe(1);
      } finally {
        await back.stop();
      }
    } finally {
      await own.stop();
    }
  });

  it('fails closed with 503 when configured to, and recovers the same way', async () => {
    const own = await startRedis();
    try {
      const store = await redisStore({
        url: own.url,
        name: 'dies-closed',
        failMode: 'closed',
        commandTimeoutMs: 500,
      });
      const policy = policyOn(store, [{ name: 'hourly', requests: 2, unit: 'Hour' }]);
      expect((await policy.evaluate(request())).allow).toBe(true);
      // killed while requests are in flight: those fail closed too, none hangs
      const inFlight = Array.from({ length: 50 }, () => policy.evaluate(request()));
      await own.kill();
      const settled = await Promise.all(inFlight);
      expect(settled.filter((v) => v.allow).length).toBeLessThanOrEqual(1);
      const during = await policy.evaluate(request());
      expect(during).toEqual({
        allow: false,
        status: 503,
        reason: 'rate-limit store unavailable',
        headers: { 'retry-after': '1' },
      });
      expect(
        await metricValue('tenantgate_ratelimit_store_unavailable_total', {
          store: 'dies-closed',
          mode: 'closed',
        }),
      ).toBeGreaterThanOrEqual(1);

      const back = await startRedis({ port: own.port });
      try {
        await store.ready(15_000);
        expect((await policy.evaluate(request())).allow).toBe(true);
      } finally {
        await back.stop();
      }
    } finally {
      await own.stop();
    }
  });
});
