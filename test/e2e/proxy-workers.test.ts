// `tenantgate proxy --workers 2`, as a user runs it: two worker processes share the listening port
// (SO_REUSEPORT), the primary compiles and ships the route table. Every route is served; a Distinct-header
// rate limit stays exact across workers (the primary owns the counters); a killed worker is replaced
// while the other keeps serving; 20 route changes under a wrk load cost no request.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const NS = 'workers';
const ROUTES = 6;
let backend: EchoBackend;
let files: ReturnType<typeof manifestDir>;
let port: number;
let proxy: ProxyProcess;

/** r0, the route under load, with a request header that changes with every reload */
const r0 = (change: number) => `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r0, namespace: ${NS}}
spec:
  parentRefs: [{name: gw}]
  hostnames: [r0.example.com]
  rules:
    - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: X-Change, value: '${change}'}]}}]
      backendRefs: [{name: echo, port: 80}]
`;

const routes = () =>
  baseManifests({ namespace: NS, port, backendPort: backend.port }) +
  Array.from({ length: ROUTES - 1 }, (_, i) => routeYaml(NS, `r${i + 1}`, `r${i + 1}.example.com`)).join('') +
  routeYaml(NS, 'limited', 'limited.example.com') +
  rateLimitYaml(
    NS,
    'per-user',
    'limited',
    '[{name: per-user, requests: 5, unit: Minute, clientSelectors: [{headers: [{name: X-User, type: Distinct}]}]}]',
  );

/** The worker processes of the proxy (its children), from ps. */
function workerPids(): number[] {
  const out = execFileSync('ps', ['-o', 'pid=', '--ppid', String(proxy.child.pid)], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((s) => Number(s.trim()))
    .filter((n) => n > 0);
}

async function generation(): Promise<number> {
  return metricValue(await proxy.metrics(), 'tenantgate_proxy_route_table_generation');
}

beforeAll(async () => {
  backend = await startEcho('echo');
  port = await freePort();
  files = manifestDir();
  files.write('all.yaml', routes());
  files.write('r0-0.yaml', r0(0));
  proxy = await spawnProxy({ dir: files.dir, args: ['--workers', '2'] });
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await backend?.close();
  files?.remove();
});

describe('tenantgate proxy --workers 2', () => {
  it('runs two workers, counted in tenantgate_proxy_workers', async () => {
    expect(workerPids()).toHaveLength(2);
    await eventually(async () => metricValue(await proxy.metrics(), 'tenantgate_proxy_workers') === 2);
  });

  it('serves every route over fresh connections, and /metrics merges the workers’ counts', async () => {
    for (let round = 0; round < 4; round++)
      for (let i = 0; i < ROUTES; i++) {
        const r = await request(port, `/r${i}/${round}`, { host: `r${i}.example.com` });
        expect(r.status, `r${i} round ${round}`).toBe(200);
        expect(r.echo?.url).toBe(`/r${i}/${round}`);
      }
    const text = await proxy.metrics();
    let after = 0;
    for (let i = 0; i < ROUTES; i++)
      after += metricValue(text, 'tenantgate_proxy_requests_total', { route: `${NS}/r${i}`, code: '200' });
    expect(after).toBe(4 * ROUTES);
  });

  it('admits exactly 5 requests per X-User per minute across workers (fresh connections)', async () => {
    // 12 connections per key: with SO_REUSEPORT they land on both workers (all on one: p = 2^-11)
    for (const user of ['alice', 'bob', 'carol']) {
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++)
        statuses.push(
          (await request(port, '/', { host: 'limited.example.com', headers: { 'x-user': user } })).status,
        );
      expect(
        statuses.filter((s) => s === 200),
        user,
      ).toHaveLength(5);
      expect(
        statuses.filter((s) => s === 429),
        user,
      ).toHaveLength(7);
      expect(statuses.slice(0, 5).every((s) => s === 200)).toBe(true);
    }
  });

  it('replaces a killed worker while the other keeps serving', async () => {
    const [victim, survivor] = workerPids();
    process.kill(victim!, 'SIGKILL');
    await eventually(() => !workerPids().includes(victim!));
    // the survivor serves every request meanwhile, over fresh connections
    for (let i = 0; i < 30; i++)
      expect((await request(port, '/', { host: `r${i % ROUTES}.example.com` })).status).toBe(200);
    await eventually(() => {
      const now = workerPids();
      return now.length === 2 && now.includes(survivor!) && !now.includes(victim!);
    }, 20_000);
    await eventually(
      async () => metricValue(await proxy.metrics(), 'tenantgate_proxy_workers') === 2,
      20_000,
    );
    // the replacement got the current table: both workers answer every route
    for (let i = 0; i < 20; i++)
      expect((await request(port, '/', { host: `r${i % ROUTES}.example.com` })).status).toBe(200);
  }, 60_000);

  it('20 route changes during a 10 s wrk run cost no request (0 non-2xx, 0 socket errors)', async () => {
    const wrk = spawn(
      'wrk',
      ['-t1', '-c16', '-d10s', '--latency', '-H', 'Host: r0.example.com', `http://127.0.0.1:${port}/load`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    wrk.stdout.on('data', (c) => (out += c));
    wrk.stderr.on('data', (c) => (out += c));
    const exited = new Promise<number | null>((resolve) => wrk.once('exit', (code) => resolve(code)));
    const start = await generation();
    for (let change = 1; change <= 20; change++) {
      // one more route, and the route under load itself changes (its header filter). A new file, then the
      // old one removed: for a moment both define r0 (the same backend), never neither.
      const extra = Array.from({ length: change }, (_, i) =>
        routeYaml(NS, `added-${i}`, `added-${i}.example.com`),
      ).join('');
      files.write(`r0-${change}.yaml`, r0(change) + extra);
      fs.rmSync(path.join(files.dir, `r0-${change - 1}.yaml`));
      await eventually(async () => (await generation()) >= start + change, 10_000);
    }
    // every change was applied while wrk was still running
    expect(wrk.exitCode, 'wrk ended before the 20 changes were applied').toBeNull();
    expect(await exited).toBe(0);
    const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
    expect(requests, out).toBeGreaterThan(100);
    expect(out, out).not.toMatch(/Non-2xx or 3xx responses/);
    expect(out, out).not.toMatch(/Socket errors/);
    expect(await generation()).toBeGreaterThanOrEqual(start + 20);
    // the last change is what the route under load now does
    const last = await request(port, '/after', { host: 'r0.example.com' });
    expect(last.echo?.headers['x-change']).toBe('20');
  }, 60_000);

  it('SIGTERM drains every worker and exits 0', async () => {
    const pids = workerPids();
    expect(await proxy.stop()).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  }, 30_000);
});
