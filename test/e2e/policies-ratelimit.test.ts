// RateLimitPolicy through real `tenantgate proxy --from-files` processes, one with in-process counters and
// one with counters in a real redis-server (same manifests, another bind address): on each, N requests
// allowed and the next refused with 429, Retry-After and X-RateLimit-*; a full burst again once the window
// has passed; Distinct header values counted apart. With in-process counters: 1,000 concurrent requests
// admitting exactly the limit (the local store's documented tolerance is 0: check and charge happen
// synchronously on one thread); the headers turned off by --rate-limit-headers=false; a GRPCRoute refusal
// answered as gRPC status 8.
//
// Exact counts use limits per Hour, so no budget comes back while the test runs however slow the machine
// is; only the window test uses a 1-second unit, and it asserts nothing that depends on request speed.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../env/redis.ts';
import { freePort, request, sleep, startEcho, type EchoBackend } from './proxy-harness.ts';
import {
  baseManifests,
  grpcCall,
  manifestDir,
  metricValue,
  rateLimitYaml,
  routeYaml,
  spawnProxy,
  type ProxyProcess,
} from './policies-harness.ts';

const NS = 'rl';
let backend: EchoBackend;
let files: ReturnType<typeof manifestDir>;
let port: number;
let proxy: ProxyProcess;
let redis: RedisServer;
let onRedis: ProxyProcess;
let quiet: ProxyProcess | undefined;

const objects = () =>
  baseManifests({ namespace: NS, port, backendPort: backend.port }) +
  routeYaml(NS, 'counted', 'counted.test') +
  rateLimitYaml(NS, 'four-per-hour', 'counted', '[{name: all, requests: 4, unit: Hour}]') +
  routeYaml(NS, 'resets', 'resets.test') +
  rateLimitYaml(NS, 'two-per-second', 'resets', '[{name: all, requests: 2, unit: Second}]') +
  routeYaml(NS, 'keyed', 'keyed.test') +
  rateLimitYaml(
    NS,
    'per-key',
    'keyed',
    '[{name: per-key, requests: 2, unit: Hour, clientSelectors: [{headers: [{name: X-API-Key, type: Distinct}]}]}]',
  ) +
  routeYaml(NS, 'crowd', 'crowd.test') +
  rateLimitYaml(NS, 'hundred-per-hour', 'crowd', '[{name: all, requests: 100, unit: Hour}]') +
  `
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: rpc, namespace: ${NS}}
spec:
  parentRefs: [{name: gw}]
  hostnames: [rpc.test]
  rules: [{backendRefs: [{name: echo, port: 80}]}]
---
apiVersion: tenantgate.io/v1alpha1
kind: RateLimitPolicy
metadata: {name: rpc-limit, namespace: ${NS}}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: GRPCRoute, name: rpc}]
  limits: [{name: all, requests: 1, unit: Hour}]
`;

beforeAll(async () => {
  backend = await startEcho('echo');
  port = await freePort();
  files = manifestDir();
  files.write('all.yaml', objects());
  redis = await startRedis();
  [proxy, onRedis] = await Promise.all([
    spawnProxy({ dir: files.dir }),
    spawnProxy({ dir: files.dir, bindAddress: '127.0.0.2', args: ['--rate-limit-redis', redis.url] }),
  ]);
});

afterAll(async () => {
  await proxy?.stop();
  await onRedis?.stop();
  await redis?.stop();
  await quiet?.stop();
  await backend?.close();
  files?.remove();
});

// each store's proxy listens on the same port, on its own address
const stores = [
  { store: 'local', address: '127.0.0.1' },
  { store: 'redis', address: '127.0.0.2' },
];

describe.each(stores)(
  'RateLimitPolicy through tenantgate proxy --from-files ($store store)',
  ({ address }) => {
    const send = (host: string, headers: Record<string, string> = {}) =>
      request(port, '/', { address, host, headers });

    it('allows N requests, refuses the next with 429, Retry-After and X-RateLimit-*', async () => {
      const seen = backend.received.length;
      for (let i = 0; i < 4; i++) {
        const res = await send('counted.test');
        expect(res.status).toBe(200);
        expect(res.headers['x-ratelimit-limit']).toBe('4');
        expect(res.headers['x-ratelimit-remaining']).toBe(String(3 - i));
        expect(res.headers['retry-after']).toBeUndefined();
        // one request's worth comes back in 15 min: the whole burst, (i+1) × 15 min after the first (less
        // the seconds the requests took)
        const reset = Number(res.headers['x-ratelimit-reset']);
        expect(reset).toBeGreaterThan(900 * (i + 1) - 10);
        expect(reset).toBeLessThanOrEqual(900 * (i + 1));
      }
      const refused = await send('counted.test');
      expect(refused.status).toBe(429);
      expect(refused.body).toMatch(/rate limit all of RateLimitPolicy rl\/four-per-hour exceeded/);
      // the next request is allowed one emission interval (15 min) after the first; the burst is back in 1 h
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(890);
      expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(900);
      expect(refused.headers['x-ratelimit-limit']).toBe('4');
      expect(refused.headers['x-ratelimit-remaining']).toBe('0');
      expect(Number(refused.headers['x-ratelimit-reset'])).toBeGreaterThan(3500);
      expect(backend.received.slice(seen).filter((r) => r.headers.host === 'counted.test')).toHaveLength(4);
    });

    it('admits a full burst again once the window has passed', async () => {
      // 2 per second: 20 requests at once cannot all fit, whatever the machine's speed
      const crowd = async (o: { admitsBurst: boolean }) => {
        const results = await Promise.all(Array.from({ length: 20 }, () => send('resets.test')));
        const refused = results.filter((r) => r.status === 429);
        if (o.admitsBurst) expect(results.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(2);
        expect(refused.length).toBeGreaterThanOrEqual(1);
        for (const r of refused) {
          expect(r.headers['retry-after']).toBe('1');
          expect(r.headers['x-ratelimit-reset']).toBe('1');
        }
      };
      await crowd({ admitsBurst: true });
      // a whole window after the last request, the bucket is full again: the burst of 2 is admitted
      await sleep(1_100);
      expect([(await send('resets.test')).status, (await send('resets.test')).status]).toEqual([200, 200]);
      await crowd({ admitsBurst: false });
    });

    it('counts each distinct X-API-Key apart, and does not count requests without one', async () => {
      const status = async (key?: string) =>
        (await send('keyed.test', key ? { 'x-api-key': key } : {})).status;
      expect([
        await status('alpha'),
        await status('beta'),
        await status('alpha'),
        await status('beta'),
      ]).toEqual([200, 200, 200, 200]);
      expect([await status('alpha'), await status('beta'), await status('gamma')]).toEqual([429, 429, 200]);
      expect([await status(), await status(), await status()]).toEqual([200, 200, 200]);
    });
  },
);

describe('RateLimitPolicy with in-process counters', () => {
  it('admits exactly the limit out of 1,000 concurrent requests (tolerance 0)', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 250 });
    try {
      const results = await Promise.all(
        Array.from({ length: 1000 }, () => request(port, '/', { host: 'crowd.test', agent })),
      );
      const admitted = results.filter((r) => r.status === 200).length;
      const refused = results.filter((r) => r.status === 429).length;
      expect(admitted).toBe(100);
      expect(refused).toBe(900);
    } finally {
      agent.destroy();
    }
    const metrics = await proxy.metrics();
    expect(
      metricValue(metrics, 'tenantgate_ratelimit_decisions_total', {
        policy: 'rl/hundred-per-hour',
        decision: 'limited',
      }),
    ).toBe(900);
  });

  it('answers a GRPCRoute refusal with grpc-status 8 (RESOURCE_EXHAUSTED)', async () => {
    await grpcCall(port, 'rpc.test', '/pkg.Svc/Call');
    const refused = await grpcCall(port, 'rpc.test', '/pkg.Svc/Call');
    expect(refused.headers[':status']).toBe(200);
    expect(refused.headers['grpc-status']).toBe('8');
    expect(decodeURIComponent(String(refused.headers['grpc-message']))).toMatch(/rpc-limit exceeded/);
    expect(refused.headers['retry-after']).toBeDefined();
  });

  it('sends no X-RateLimit-* headers with --rate-limit-headers=false (Retry-After stays)', async () => {
    const quietFiles = manifestDir();
    const quietPort = await freePort();
    quietFiles.write(
      'all.yaml',
      baseManifests({ namespace: NS, port: quietPort, backendPort: backend.port }) +
        routeYaml(NS, 'counted', 'counted.test') +
        rateLimitYaml(NS, 'one', 'counted', '[{name: all, requests: 1, unit: Minute}]'),
    );
    try {
      quiet = await spawnProxy({ dir: quietFiles.dir, args: ['--rate-limit-headers=false'] });
      const allowed = await request(quietPort, '/', { host: 'counted.test' });
      expect(allowed.status).toBe(200);
      expect(Object.keys(allowed.headers).filter((h) => h.startsWith('x-ratelimit'))).toEqual([]);
      const refused = await request(quietPort, '/', { host: 'counted.test' });
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBeDefined();
      expect(Object.keys(refused.headers).filter((h) => h.startsWith('x-ratelimit'))).toEqual([]);
    } finally {
      await quiet?.stop();
      quietFiles.remove();
    }
  });

  it('refuses bad policy flags with the flag, the value and what it expects (exit code 2)', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const run = (...args: string[]) =>
      spawnSync(
        path.join(root, 'node_modules/.bin/node'),
        [path.join(root, 'cmd/tenantgate.ts'), 'proxy', '--from-files', files.dir, ...args],
        { encoding: 'utf8', timeout: 20_000 },
      );
    const mode = run('--rate-limit-fail-mode', 'maybe');
    expect(mode.status).toBe(2);
    expect(mode.stderr).toMatch(/--rate-limit-fail-mode maybe: expected open or closed/);
    const headers = run('--rate-limit-headers=nah');
    expect(headers.status).toBe(2);
    expect(headers.stderr).toMatch(/--rate-limit-headers=nah: expected true or false/);
    const scope = run('--gateway-limit-scope', 'global');
    expect(scope.stderr).toMatch(/--gateway-limit-scope global: expected per-route or shared/);
    const redis = run('--rate-limit-redis', 'localhost:6379');
    expect(redis.stderr).toMatch(/--rate-limit-redis localhost:6379: expected redis:\/\/HOST:PORT/);
  });
});
