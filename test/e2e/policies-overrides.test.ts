// GEP-713 overrides through a real `tenantgate proxy --from-files` process: a platform team's Gateway-level
// override AccessPolicy (allow-cidrs) holds on every route under the Gateway, whatever AccessPolicy a
// tenant attaches to its route (the tenant's own rule still applies in addition); a Gateway-level override
// RateLimitPolicy counts in addition to a route's own limits, the stricter refusing with its own 429
// headers, both ways. `tenantgate explain --from-files` tells the same story from the same manifests.
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, request, startEcho, type EchoBackend, type RequestOptions } from './proxy-harness.ts';
import {
  echoServiceYaml,
  GATEWAY_CLASS_YAML,
  gatewayYaml,
  manifestDir,
  spawnProxy,
  yamlDocuments,
  type ProxyProcess,
} from './policies-harness.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const ALL_NAMESPACES = '{namespaces: {from: All}}';
let backend: EchoBackend;
let files: ReturnType<typeof manifestDir>;
let accessPort: number;
let limitPort: number;
let proxy: ProxyProcess;
const fromAllowed = new http.Agent({ localAddress: '127.0.0.2' });

function route(name: string, gateway: string, host: string): string {
  return `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: team}
spec:
  parentRefs: [{name: ${gateway}, namespace: infra}]
  hostnames: [${host}]
  rules: [{backendRefs: [{name: echo, port: 80}]}]
`;
}

function policy(
  kind: 'AccessPolicy' | 'RateLimitPolicy',
  ns: string,
  name: string,
  target: string,
  spec: string,
) {
  const [tkind, tname] = target.split('/');
  return `
---
apiVersion: tenantgate.io/v1alpha1
kind: ${kind}
metadata: {name: ${name}, namespace: ${ns}}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: ${tkind}, name: ${tname}}]
${spec}`;
}

beforeAll(async () => {
  backend = await startEcho('echo');
  accessPort = await freePort();
  limitPort = await freePort();
  files = manifestDir();
  files.write(
    'all.yaml',
    yamlDocuments(
      `
apiVersion: v1
kind: Namespace
metadata: {name: infra}
---
apiVersion: v1
kind: Namespace
metadata: {name: team, labels: {tenantgate.io/tenant: acme}}
`,
      GATEWAY_CLASS_YAML,
      gatewayYaml({ name: 'guarded', namespace: 'infra', port: accessPort, allowedRoutes: ALL_NAMESPACES }),
      gatewayYaml({ name: 'metered', namespace: 'infra', port: limitPort, allowedRoutes: ALL_NAMESPACES }),
      echoServiceYaml('team', backend.port),
    ) +
      // the platform: only 127.0.0.2 and 10/8 may reach anything under Gateway guarded
      policy(
        'AccessPolicy',
        'infra',
        'platform-cidrs',
        'Gateway/guarded',
        '  overrides: {rule: allow-cidrs, parameters: {cidrs: [127.0.0.2/32, 10.0.0.0/8]}}\n',
      ) +
      route('open', 'guarded', 'open.test') +
      // a tenant trying to open its route to everyone
      policy(
        'AccessPolicy',
        'team',
        'everyone',
        'HTTPRoute/open',
        '  rule: allow-cidrs\n  parameters: {cidrs: [0.0.0.0/0]}\n',
      ) +
      route('strict', 'guarded', 'strict.test') +
      policy(
        'AccessPolicy',
        'team',
        'read-only',
        'HTTPRoute/strict',
        '  defaults: {rule: methods, parameters: {methods: [GET]}}\n',
      ) +
      route('plain', 'guarded', 'plain.test') +
      // the platform: 3 requests a minute per route under Gateway metered
      policy(
        'RateLimitPolicy',
        'infra',
        'platform-quota',
        'Gateway/metered',
        '  overrides: {limits: [{name: platform, requests: 3, unit: Minute}]}\n',
      ) +
      route('generous', 'metered', 'generous.test') +
      policy(
        'RateLimitPolicy',
        'team',
        'generous',
        'HTTPRoute/generous',
        '  limits: [{name: tenant, requests: 5, unit: Minute}]\n',
      ) +
      route('frugal', 'metered', 'frugal.test') +
      policy(
        'RateLimitPolicy',
        'team',
        'frugal',
        'HTTPRoute/frugal',
        '  defaults: {limits: [{name: tenant, requests: 2, unit: Minute}]}\n',
      ),
  );
  proxy = await spawnProxy({ dir: files.dir });
});

afterAll(async () => {
  fromAllowed.destroy();
  await proxy?.stop();
  await backend?.close();
  files?.remove();
});

const guarded = (host: string, o: RequestOptions = {}) => request(accessPort, '/orders', { host, ...o });
const metered = (host: string) => request(limitPort, '/orders', { host });

describe('a Gateway-level override AccessPolicy', () => {
  it('cannot be replaced by a tenant route policy that allows everyone', async () => {
    const refused = await guarded('open.test');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/not in an allowed range \(AccessPolicy infra\/platform-cidrs\)/);
    expect((await guarded('open.test', { agent: fromAllowed })).status).toBe(200);
  });

  it('applies to routes without a policy of their own', async () => {
    expect((await guarded('plain.test')).status).toBe(403);
    expect((await guarded('plain.test', { agent: fromAllowed })).status).toBe(200);
  });

  it("leaves the tenant's own default in force in addition", async () => {
    expect((await guarded('strict.test', { agent: fromAllowed })).status).toBe(200);
    const tenantRefused = await guarded('strict.test', { agent: fromAllowed, method: 'DELETE' });
    expect(tenantRefused.status).toBe(403);
    expect(tenantRefused.body).toMatch(/method DELETE is not allowed.*\(AccessPolicy team\/read-only\)/);
    // the override answers first
    expect((await guarded('strict.test', { method: 'DELETE' })).body).toMatch(
      /AccessPolicy infra\/platform-cidrs/,
    );
  });
});

describe('a Gateway-level override RateLimitPolicy', () => {
  it('counts in addition to a more generous route limit: the override refuses with its headers', async () => {
    const allowed = [];
    for (let i = 0; i < 3; i++) allowed.push(await metered('generous.test'));
    expect(allowed.map((r) => r.status)).toEqual([200, 200, 200]);
    // allowed responses carry the headers of the most constrained limit: the override's
    expect(allowed.map((r) => [r.headers['x-ratelimit-limit'], r.headers['x-ratelimit-remaining']])).toEqual([
      ['3', '2'],
      ['3', '1'],
      ['3', '0'],
    ]);
    const refused = await metered('generous.test');
    expect(refused.status).toBe(429);
    expect(refused.headers['x-ratelimit-limit']).toBe('3');
    expect(refused.headers['retry-after']).toBeDefined();
    expect(refused.body).toMatch(/rate limit platform of RateLimitPolicy infra\/platform-quota exceeded/);
  });

  it('lets a stricter route limit refuse first, with its own headers', async () => {
    const first = await metered('frugal.test');
    expect([
      first.status,
      first.headers['x-ratelimit-limit'],
      first.headers['x-ratelimit-remaining'],
    ]).toEqual([200, '2', '1']);
    expect((await metered('frugal.test')).status).toBe(200);
    const refused = await metered('frugal.test');
    expect(refused.status).toBe(429);
    expect(refused.headers['x-ratelimit-limit']).toBe('2');
    expect(refused.body).toMatch(/rate limit tenant of RateLimitPolicy team\/frugal exceeded/);
  });
});

describe('tenantgate explain --from-files', () => {
  function explain(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      const child = spawn(
        path.join(ROOT, 'node_modules/.bin/node'),
        [path.join(ROOT, 'cmd/tenantgate.ts'), 'explain', '--from-files', files.dir, ...args],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TENANTGATE_LOG_LEVEL: 'error' } },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c) => (stdout += c));
      child.stderr.on('data', (c) => (stderr += c));
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('names the listener, the route rule and every policy in force in order, with their decisions', async () => {
    const r = await explain([
      '--gateway',
      'infra/guarded',
      '--host',
      'open.test',
      '--path',
      '/orders?x=1',
      '-o',
      'json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(1);
    const e = JSON.parse(r.stdout);
    expect(e.listener.name).toBe('http');
    expect(e.route).toMatchObject({ kind: 'HTTPRoute', namespace: 'team', name: 'open', ruleIndex: 0 });
    expect(e.request).toMatchObject({ path: '/orders', query: 'x=1', sourceIp: '127.0.0.1' });
    expect(
      e.policies.map((p: { kind: string; id: string; section: string; decision: string }) => [
        p.kind,
        p.id,
        p.section,
        p.decision,
      ]),
    ).toEqual([
      ['AccessPolicy', 'infra/platform-cidrs', 'overrides', 'refuse'],
      ['AccessPolicy', 'team/everyone', 'defaults', 'allow'],
    ]);
    expect(e.outcome).toMatchObject({ status: 403, forwarded: false });
    expect(e.outcome.reason).toMatch(/refused by AccessPolicy infra\/platform-cidrs/);

    const allowed = await explain([
      '--gateway',
      'infra/guarded',
      '--host',
      'open.test',
      '--path',
      '/',
      '--source-ip',
      '127.0.0.2',
    ]);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toMatch(/route\s+HTTPRoute team\/open, rule 0: PathPrefix \//);
    expect(allowed.stdout).toMatch(
      /1\s+AccessPolicy infra\/platform-cidrs \(override on Gateway\/infra\/guarded\)\s+allow/,
    );
    expect(allowed.stdout).toMatch(/outcome\s+forwarded to team\/echo/);
  });

  it('lists rate limits in the order the proxy counts them, and says why no route matches', async () => {
    const r = await explain([
      '--gateway',
      'infra/metered',
      '--host',
      'frugal.test',
      '--path',
      '/',
      '-o',
      'json',
    ]);
    const e = JSON.parse(r.stdout);
    expect(
      e.policies.map((p: { id: string; decision: string; detail: string }) => [p.id, p.decision, p.detail]),
    ).toEqual([
      ['team/frugal', 'counts', 'counts against tenant (2 per minute); over it: 429'],
      ['infra/platform-quota', 'counts', 'counts against platform (3 per minute); over it: 429'],
    ]);
    const none = await explain([
      '--gateway',
      'infra/metered',
      '--host',
      'nobody.test',
      '--path',
      '/',
      '-o',
      'json',
    ]);
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stdout).outcome).toMatchObject({ status: 404 });
    const usage = await explain(['--gateway', 'metered', '--host', 'x', '--path', '/']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--gateway must be NAMESPACE\/NAME \(got 'metered'\)/);
  });

  it('routes the path the proxy would route: normalised, refused when ambiguous, with the proxy flags', async () => {
    const json = async (args: string[]) => {
      const r = await explain([...args, '-o', 'json']);
      return { code: r.code, e: JSON.parse(r.stdout) };
    };
    const host = ['--gateway', 'infra/guarded', '--host', 'open.test', '--source-ip', '127.0.0.2'];
    const dotted = await json([...host, '--path', '/x/..//%6Frders/./?a=%2F']);
    expect(dotted.code).toBe(0);
    expect(dotted.e.request).toMatchObject({
      rawPath: '/x/..//%6Frders/./?a=%2F',
      path: '/orders/',
      query: 'a=%2F',
    });
    const slash = await json([...host, '--path', '/orders%2Fsecret']);
    expect(slash.code).toBe(1);
    expect(slash.e.outcome).toMatchObject({ status: 400, forwarded: false });
    expect(slash.e.outcome.reason).toMatch(/path\.escaped-slash/);
    const kept = await json([...host, '--escaped-slashes', 'keep', '--path', '/orders%2fsecret']);
    expect(kept.code).toBe(0);
    expect(kept.e.request.path).toBe('/orders%2Fsecret');
    const unmerged = await json([...host, '--merge-slashes=false', '--path', '//orders']);
    expect(unmerged.e.request.path).toBe('//orders');
    const bad = await explain([...host, '--escaped-slashes', 'decode', '--path', '/']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /--escaped-slashes: 'decode' must be one of keep, reject, unescape-and-redirect/,
    );
  });
});
