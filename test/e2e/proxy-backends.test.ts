// Backends through the real proxy: weighted splits, the error statuses (500 unresolvable or no backends,
// 503 no ready endpoint, 502 connection refused, 504 timeouts with "0s" disabling them), retries, and
// ReferenceGrants read from files — access revoked when the grant's file is deleted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxy, type RunningProxy } from '../../proxy/index.ts';
import {
  gateway,
  gatewayClass,
  httpListener,
  httpRoute,
  referenceGrant,
  serviceObjects,
} from '../../proxy/model/builders.ts';
import type { KubeObject } from '../../proxy/model/gateway-api.ts';
import {
  echoServices,
  eventually,
  freePort,
  localGateway,
  request,
  startEcho,
  startTestProxy,
  stopAll,
  type EchoBackend,
  type TestProxy,
} from './proxy-harness.ts';

const NS = 'backends';
let a: EchoBackend, b: EchoBackend, zero: EchoBackend;
let proxy: TestProxy;
let port: number;
let refusedPort: number;

const prefix = (value: string) => [{ path: { type: 'PathPrefix' as const, value } }];

beforeAll(async () => {
  [a, b, zero] = await Promise.all([startEcho('a'), startEcho('b'), startEcho('zero')]);
  [port, refusedPort] = [await freePort(), await freePort()];
  proxy = await startTestProxy([
    ...localGateway(NS, port),
    ...echoServices(NS, [a, b, zero]),
    ...serviceObjects(NS, 'empty', 80, []),
    ...serviceObjects(NS, 'refused', 80, [`127.0.0.1:${refusedPort}`]),
    ...serviceObjects('elsewhere', 'a', 80, [a.endpoint]),
    httpRoute(NS, 'r', {
      parentRefs: [{ name: 'gw' }],
      rules: [
        {
          matches: prefix('/weighted'),
          backendRefs: [
            { name: 'a', port: 80, weight: 70 },
            { name: 'b', port: 80, weight: 30 },
            { name: 'zero', port: 80, weight: 0 },
          ],
        },
        { matches: prefix('/missing-service'), backendRefs: [{ name: 'nope', port: 80 }] },
        {
          matches: prefix('/unknown-kind'),
          backendRefs: [{ group: 'example.com', kind: 'Bucket', name: 'a' }],
        },
        {
          matches: prefix('/cross-namespace'),
          backendRefs: [{ name: 'a', namespace: 'elsewhere', port: 80 }],
        },
        { matches: prefix('/no-backends') },
        { matches: prefix('/no-endpoints'), backendRefs: [{ name: 'empty', port: 80 }] },
        { matches: prefix('/refused'), backendRefs: [{ name: 'refused', port: 80 }] },
        {
          matches: prefix('/request-timeout'),
          timeouts: { request: '2s' },
          backendRefs: [{ name: 'a', port: 80 }],
        },
        {
          matches: prefix('/backend-timeout'),
          timeouts: { backendRequest: '2s' },
          backendRefs: [{ name: 'a', port: 80 }],
        },
        {
          matches: prefix('/no-timeout'),
          timeouts: { request: '0s', backendRequest: '0s' },
          backendRefs: [{ name: 'a', port: 80 }],
        },
        {
          matches: prefix('/status'),
          retry: { codes: [503], attempts: 2, backoff: '10ms' },
          backendRefs: [{ name: 'a', port: 80 }],
        },
      ],
    }),
  ]);
});

afterAll(() => stopAll(proxy, [a, b, zero]));

describe('weighted backends', () => {
  it('splits by weight and never sends to a weight-0 backend', async () => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 400; i++) {
      const res = await request(port, '/weighted');
      const name = res.echo?.backend ?? String(res.status);
      counts[name] = (counts[name] ?? 0) + 1;
    }
    expect(counts.zero).toBeUndefined();
    expect(counts.a! / 400).toBeGreaterThan(0.6);
    expect(counts.a! / 400).toBeLessThan(0.8);
    expect(counts.a! + counts.b!).toBe(400);
  });
});

describe('errors', () => {
  it('500 when the backend cannot be resolved or the rule has none', async () => {
    for (const p of ['/missing-service', '/unknown-kind', '/cross-namespace', '/no-backends']) {
      const res = await request(port, p);
      expect([p, res.status]).toEqual([p, 500]);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
    }
  });
  it('503 when the Service has no ready endpoint', async () => {
    expect((await request(port, '/no-endpoints')).status).toBe(503);
  });
  it('502 when the backend refuses the connection', async () => {
    expect((await request(port, '/refused')).status).toBe(502);
  });
});

// The timeouts are seconds and the slow backend is five times slower, so a busy machine cannot turn a fast
// answer into a 504; proxy and backends share this process's event loop, so the proxy's 2 s timer always
// fires before the backend's 10 s one.
describe('timeouts', () => {
  it('request timeout: 504 for a slow backend, a fast one passes', async () => {
    expect((await request(port, '/request-timeout?delay=10000')).status).toBe(504);
    expect((await request(port, '/request-timeout?delay=10')).status).toBe(200);
  });
  it('backendRequest timeout: 504', async () => {
    expect((await request(port, '/backend-timeout?delay=10000')).status).toBe(504);
  });
  it('"0s" disables the timeout', async () => {
    const res = await request(port, '/no-timeout?delay=300');
    expect(res.status).toBe(200);
  });
});

describe('retries', () => {
  it('retries the configured codes, then returns the backend status', async () => {
    const before = a.received.filter((r) => r.url === '/status/503').length;
    const res = await request(port, '/status/503');
    expect(res.status).toBe(503);
    expect(a.received.filter((r) => r.url === '/status/503').length - before).toBe(3); // 1 try + 2 retries
    const other = a.received.filter((r) => r.url === '/status/500').length;
    expect((await request(port, '/status/500')).status).toBe(500);
    expect(a.received.filter((r) => r.url === '/status/500').length - other).toBe(1);
  });
});

describe('ReferenceGrant from files', () => {
  let dir: string;
  let running: RunningProxy;
  let grantPort: number;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-grant-'));
    grantPort = await freePort();
    const write = (file: string, objects: KubeObject[]) =>
      fs.writeFileSync(
        path.join(dir, file),
        JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
      );
    write('gateway.json', [
      gatewayClass(),
      gateway('front', 'gw', [httpListener('http', grantPort)], { addresses: ['127.0.0.1'] }),
    ]);
    write('backend.json', serviceObjects('back', 'svc', 80, [a.endpoint]));
    write('route.json', [
      httpRoute('front', 'r', {
        parentRefs: [{ name: 'gw' }],
        rules: [{ backendRefs: [{ name: 'svc', namespace: 'back', port: 80 }] }],
      }),
    ]);
    write('grant.json', [
      referenceGrant('back', 'allow-front', {
        from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'front' }],
        to: [{ group: '', kind: 'Service', name: 'svc' }],
      }),
    ]);
    running = await startProxy({ source: { kind: 'files', dir }, accessLog: { enabled: false } });
  });
  afterAll(async () => {
    await running?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves the cross-namespace backend while the grant exists, 500 once its file is deleted', async () => {
    expect((await request(grantPort, '/x')).echo?.backend).toBe('a');
    fs.rmSync(path.join(dir, 'grant.json'));
    await eventually(async () => (await request(grantPort, '/x')).status === 500);
  });
});
