// RateLimitPolicy with counters in a real redis-server, through real `tenantgate proxy --from-files`
// processes: two proxies (one manifest directory, two bind addresses) enforce one global limit between
// them; when redis-server is killed mid-run a fail-open proxy keeps serving (and counts it in a metric)
// while a fail-closed one refuses with 503; both recover when a new redis-server comes back on the same
// port. The third proxy is configured by environment variables only, as `tenantgate run` would be.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../env/redis.ts';
import { eventually, freePort, request, startEcho, type EchoBackend } from './proxy-harness.ts';
import {
  baseManifests,
  manifestDir,
  metricValue,
  rateLimitYaml,
  routeYaml,
  spawnProxy,
  type ProxyProcess,
} from './policies-harness.ts';

const NS = 'rl-redis';
let backend: EchoBackend;
let redis: RedisServer;
let files: ReturnType<typeof manifestDir>;
let port: number;
let a: ProxyProcess, b: ProxyProcess, closed: ProxyProcess;

beforeAll(async () => {
  backend = await startEcho('echo');
  redis = await startRedis();
  port = await freePort();
  files = manifestDir();
  files.write(
    'all.yaml',
    baseManifests({ namespace: NS, port, backendPort: backend.port }) +
      routeYaml(NS, 'global', 'global.test') +
      rateLimitYaml(NS, 'fifty-per-hour', 'global', '[{name: all, requests: 50, unit: Hour}]') +
      routeYaml(NS, 'roomy', 'roomy.test') +
      rateLimitYaml(NS, 'roomy', 'roomy', '[{name: all, requests: 100000, unit: Hour}]') +
      routeYaml(NS, 'small', 'small.test') +
      rateLimitYaml(NS, 'two-per-hour', 'small', '[{name: all, requests: 2, unit: Hour}]'),
  );
  // a generous command timeout: on a loaded machine a 250 ms Redis answer can be late, and the fail-open
  // proxy would then admit past the limit; this test is about the shared count, not the fail mode
  const flags = ['--rate-limit-redis', redis.url, '--rate-limit-redis-timeout-ms', '5000'];
  [a, b, closed] = await Promise.all([
    spawnProxy({ dir: files.dir, bindAddress: '127.0.0.1', args: flags }),
    spawnProxy({
      dir: files.dir,
      bindAddress: '127.0.0.2',
      args: [...flags, '--rate-limit-fail-mode', 'open'],
    }),
    spawnProxy({
      dir: files.dir,
      bindAddress: '127.0.0.3',
      env: {
        TENANTGATE_RATE_LIMIT_REDIS: redis.url,
        TENANTGATE_RATE_LIMIT_FAIL_MODE: 'closed',
        TENANTGATE_RATE_LIMIT_REDIS_TIMEOUT_MS: '5000',
      },
    }),
  ]);
});

afterAll(async () => {
  await Promise.all([a, b, closed].map((p) => p?.stop()));
  await redis?.stop();
  await backend?.close();
  files?.remove();
});

const at = (address: string, host: string) => request(port, '/', { address, host });

describe('RateLimitPolicy with counters in Redis, across proxy processes', () => {
  it('two proxy processes sharing one redis-server enforce one global limit', async () => {
    const agents = [
      new http.Agent({ keepAlive: true, maxSockets: 50 }),
      new http.Agent({ keepAlive: true, maxSockets: 50 }),
    ];
    try {
      const results = await Promise.all(
        Array.from({ length: 400 }, (_, i) =>
          request(port, '/', {
            address: i % 2 ? '127.0.0.2' : '127.0.0.1',
            host: 'global.test',
            agent: agents[i % 2],
          }).then((r) => ({ via: i % 2, status: r.status })),
        ),
      );
      const admitted = results.filter((r) => r.status === 200);
      expect(admitted).toHaveLength(50); // Redis store: tolerance 0 however many replicas
      expect(results.filter((r) => r.status === 429)).toHaveLength(350);
      // both processes admitted some: the limit is global, not per process
      expect(admitted.some((r) => r.via === 0)).toBe(true);
      expect(admitted.some((r) => r.via === 1)).toBe(true);
    } finally {
      for (const agent of agents) agent.destroy();
    }
    // the third process, configured through the environment, shares the same counter
    expect((await at('127.0.0.3', 'global.test')).status).toBe(429);
  });

  it('follows the fail mode while redis-server is down, and recovers when it returns on the same port', async () => {
    expect((await at('127.0.0.1', 'small.test')).status).toBe(200);
    expect((await at('127.0.0.1', 'roomy.test')).headers['x-ratelimit-limit']).toBe('100000');

    await redis.kill();
    // fail open: served, without rate-limit headers (nothing was counted), and counted in a metric
    await eventually(async () => {
      const res = await at('127.0.0.1', 'roomy.test');
      return res.status === 200 && res.headers['x-ratelimit-limit'] === undefined;
    });
    for (let i = 0; i < 5; i++) expect((await at('127.0.0.2', 'small.test')).status).toBe(200);
    const metrics = await b.metrics();
    expect(
      metricValue(metrics, 'tenantgate_ratelimit_store_unavailable_total', { mode: 'open' }),
    ).toBeGreaterThanOrEqual(5);
    expect(metricValue(metrics, 'tenantgate_ratelimit_redis_connected')).toBe(0);
    expect(a.output()).toMatch(/rate-limit store unavailable; failing open/);
    // fail closed: refused with 503 and Retry-After, not 429 (the client did nothing wrong)
    const refused = await at('127.0.0.3', 'roomy.test');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toMatch(/rate-limit store unavailable/);

    redis = await startRedis({ port: redis.port });
    for (const [address, proxy] of [
      ['127.0.0.1', a],
      ['127.0.0.2', b],
      ['127.0.0.3', closed],
    ] as const) {
      await eventually(async () => {
        const res = await at(address, 'roomy.test');
        return res.status === 200 && res.headers['x-ratelimit-limit'] === '100000';
      }, 15_000);
      expect(metricValue(await proxy.metrics(), 'tenantgate_ratelimit_redis_connected')).toBe(1);
    }
    // counting again, on the new (empty) server: two allowed, the third refused
    const statuses = [];
    for (const address of ['127.0.0.1', '127.0.0.2', '127.0.0.3'])
      statuses.push((await at(address, 'small.test')).status);
    expect(statuses).toEqual([200, 200, 429]);
  });
});
