// RateLimitPolicy through real `tenantgate proxy --from-files` processes with in-process counters: N
// requests allowed and the next refused with 429, Retry-After and X-RateLimit-*, then the window resets;
// Distinct header values counted apart; 1,000 concurrent requests admitting exactly the limit (the local
// store's documented tolerance is 0: check and charge happen synchronously on one thread); the headers
// turned off by --rate-limit-headers=false; a GRPCRoute refusal answered as gRPC status 8.
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
let quiet: ProxyProcess | undefined;

const objects = () =>
  baseManifests({ namespace: NS, port, backendPort: backend.port }) +
  routeYaml(NS, 'counted', 'counted.test') +
  rateLimitYaml(NS, 'three-per-minute', 'counted', '[{name: all, requests: 3, unit: Minute}]') +
  routeYaml(NS, 'resets', 'resets.test') +
  rateLimitYaml(NS, 'two-per-second', 'resets', '[{name: all, requests: 2, unit: Second}]') +
  routeYaml(NS, 'keyed', 'keyed.test') +
  rateLimitYaml(
    NS,
    'per-key',
    'keyed',
    '[{name: per-key, requests: 2, unit: Minute, clientSelectors: [{headers: [{name: X-API-Key, type: Distinct}]}]}]',
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
  proxy = await spawnProxy({ dir: files.dir });
});

afterAll(async () => {
  await proxy?.stop();
  await quiet?.stop();
  await backend?.close();
  files?.remove();
});

describe('RateLimitPolicy through tenantgate proxy --from-files', () => {
  it('allows N requests, refuses the next with 429, Retry-After and X-RateLimit-*', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await request(port, '/', { host: 'counted.test' });
      expect(res.status).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('3');
      expect(res.headers['x-ratelimit-remaining']).toBe(String(2 - i));
    }
    const refused = await request(port, '/', { host: 'counted.test' });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatch(/rate limit all of RateLimitPolicy rl\/three-per-minute exceeded/);
    // the next request is allowed one emission interval (20 s) after the first; the burst is back in 60 s
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(19);
    expect(Number(refused.headers['retry-after'])).toBeLessThanOrEqual(20);
    expect(refused.headers['x-ratelimit-limit']).toBe('3');
    expect(refused.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(refused.headers['x-ratelimit-reset'])).toBeGreaterThan(55);
    expect(backend.received.filter((r) => r.headers.host === 'counted.test')).toHaveLength(3);
  });

  it('admits a full burst again once the window has passed', async () => {
    const burst = async () => {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await request(port, '/', { host: 'resets.test' })).status);
      return statuses;
    };
    expect(await burst()).toEqual([200, 200, 429]);
    await sleep(1_100);
    expect(await burst()).toEqual([200, 200, 429]);
  });

  it('counts each distinct X-API-Key apart, and does not count requests without one', async () => {
    const send = (key?: string) =>
      request(port, '/', { host: 'keyed.test', headers: key ? { 'x-api-key': key } : {} }).then(
        (r) => r.status,
      );
    expect([await send('alpha'), await send('alpha'), await send('alpha')]).toEqual([200, 200, 429]);
    expect([await send('beta'), await send('beta'), await send('beta')]).toEqual([200, 200, 429]);
    expect([await send(), await send(), await send()]).toEqual([200, 200, 200]);
  });

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
