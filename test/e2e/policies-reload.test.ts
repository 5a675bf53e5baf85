// Policy changes take effect without a restart, in one real `tenantgate proxy --from-files` process: an
// AccessPolicy file added, edited (new parameters, then a new rule) and removed; API keys rotated by editing
// their Secret, and refused (500, fail closed) once it is deleted; a RateLimitPolicy edited; and a custom
// policy bundle (from --policy-config) that appears after start: the AccessPolicy naming its rule turns from
// invalid (500) to enforced once the engine loads it, and its rule sees the route's tenant, route, host and
// path.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../helpers/policies.ts';
import { eventually, freePort, request, startEcho, type EchoBackend } from './proxy-harness.ts';
import {
  accessYaml,
  baseManifests,
  manifestDir,
  metricValue,
  rateLimitYaml,
  routeYaml,
  spawnProxy,
  type ProxyProcess,
} from './policies-harness.ts';

const NS = 'reload';
let backend: EchoBackend;
let files: ReturnType<typeof manifestDir>;
let bundleDir: ReturnType<typeof manifestDir>;
let port: number;
let proxy: ProxyProcess;
let pid: number | undefined;

beforeAll(async () => {
  backend = await startEcho('echo');
  port = await freePort();
  files = manifestDir();
  bundleDir = manifestDir();
  files.write(
    'base.yaml',
    baseManifests({ namespace: NS, port, backendPort: backend.port }) +
      routeYaml(NS, 'guarded', 'guarded.test') +
      routeYaml(NS, 'limited', 'limited.test') +
      routeYaml(NS, 'custom', 'custom.test') +
      routeYaml(NS, 'keyed', 'keyed.test') +
      accessYaml({
        namespace: NS,
        name: 'keyed',
        route: 'keyed',
        rule: 'api-key',
        parameters: '{secretRef: {name: keys}}',
      }) +
      accessYaml({
        namespace: NS,
        name: 'same-tenant',
        route: 'custom',
        rule: 'same-tenant',
        parameters: '{}',
      }),
  );
  files.write('keys.yaml', keysSecret('old-key'));
  files.write('limit.yaml', rateLimitYaml(NS, 'limit', 'limited', '[{name: one, requests: 1, unit: Hour}]'));
  bundleDir.write(
    'policy-config.yaml',
    `bundles: [{name: team-rules, file: ${path.join(bundleDir.dir, 'team-rules.tar.gz')}}]\n`,
  );
  proxy = await spawnProxy({
    dir: files.dir,
    args: ['--policy-config', path.join(bundleDir.dir, 'policy-config.yaml')],
  });
  pid = proxy.child.pid;
});

afterAll(async () => {
  await proxy?.stop();
  await backend?.close();
  files?.remove();
  bundleDir?.remove();
});

/** The Secret `keys` the api-key policy of route `keyed` reads, holding one key. */
const keysSecret = (key: string) => `
apiVersion: v1
kind: Secret
metadata: {name: keys, namespace: ${NS}}
stringData: {k: ${key}}
`;

const status = async (
  host: string,
  o: { headers?: Record<string, string>; from?: http.Agent; method?: string } = {},
) =>
  (
    await request(port, '/', {
      host,
      headers: o.headers ?? {},
      agent: o.from ?? false,
      method: o.method ?? 'GET',
    })
  ).status;

describe('policy changes without a restart (tenantgate proxy --from-files)', () => {
  it('enforces an AccessPolicy file as it is added, follows its edits, and stops when it is removed', async () => {
    const from9 = new http.Agent({ localAddress: '127.0.0.9' });
    const methods = (list: string) =>
      accessYaml({
        namespace: NS,
        name: 'guard',
        route: 'guarded',
        rule: 'methods',
        parameters: `{methods: [${list}]}`,
      });
    try {
      expect(await status('guarded.test', { method: 'DELETE' })).toBe(200);
      files.write('access.yaml', methods('GET'));
      await eventually(async () => (await status('guarded.test', { method: 'DELETE' })) === 403);
      expect(await status('guarded.test', { method: 'GET' })).toBe(200);
      // new parameters
      files.write('access.yaml', methods('GET, DELETE'));
      await eventually(async () => (await status('guarded.test', { method: 'DELETE' })) === 200);
      // a new rule in the same policy
      files.write(
        'access.yaml',
        accessYaml({
          namespace: NS,
          name: 'guard',
          route: 'guarded',
          rule: 'allow-cidrs',
          parameters: '{cidrs: [127.0.0.9/32]}',
        }),
      );
      await eventually(async () => (await status('guarded.test')) === 403);
      expect(await status('guarded.test', { from: from9 })).toBe(200);
      fs.rmSync(path.join(files.dir, 'access.yaml'));
      await eventually(async () => (await status('guarded.test', { method: 'DELETE' })) === 200);
    } finally {
      from9.destroy();
    }
  });

  it('rotates API keys when their Secret changes, and refuses everything once it is deleted', async () => {
    const withKey = (key: string) => status('keyed.test', { headers: { 'x-api-key': key } });
    expect(await withKey('old-key')).toBe(200);
    files.write('keys.yaml', keysSecret('new-key'));
    await eventually(async () => (await withKey('new-key')) === 200);
    expect(await withKey('old-key')).toBe(403);
    fs.rmSync(path.join(files.dir, 'keys.yaml'));
    // the Secret is gone: fail closed, not open
    await eventually(async () => (await withKey('new-key')) === 500);
  });

  it('applies an edited RateLimitPolicy', async () => {
    expect(await status('limited.test')).toBe(200);
    expect(await status('limited.test')).toBe(429);
    // a new limit (a new name starts new counters) with room for more
    files.write(
      'limit.yaml',
      rateLimitYaml(NS, 'limit', 'limited', '[{name: five, requests: 5, unit: Hour}]'),
    );
    await eventually(async () => (await status('limited.test')) === 200);
    const res = await request(port, '/', { host: 'limited.test' });
    expect(res.headers['x-ratelimit-limit']).toBe('5');
  });

  it('recompiles when a custom bundle providing the rule is loaded, and gives the rule the request', async () => {
    const custom = async (tenant: string) =>
      request(port, '/v1/orders?page=2', { host: 'custom.test', headers: { 'x-tenant': tenant } });
    // no bundle provides same-tenant yet: the policy is invalid and refuses (fail closed)
    expect((await custom('acme')).status).toBe(500);
    const bytes = buildBundle(
      {
        'catalog.rego': `package tenantgate.access
catalog := {"same-tenant": {"entrypoint": "tenantgate/access/same_tenant/decision", "description": "x-tenant must be the route's tenant", "schema": {"type": "object"}}}`,
        'same_tenant.rego': `package tenantgate.access.same_tenant
default decision := {"allow": false, "status": 401, "reason": "wrong tenant"}
decision := {"allow": true, "status": 200, "reason": "ok"} if {
  input.headers["x-tenant"] == input.tenant
  input.route.kind == "HTTPRoute"
  input.route.name == "custom"
  input.host == "custom.test"
  input.path == "/v1/orders"
}`,
      },
      ['tenantgate/access/catalog', 'tenantgate/access/same_tenant/decision'],
    );
    bundleDir.write('team-rules.tar.gz', bytes);
    await eventually(async () => (await custom('acme')).status === 200, 20_000);
    // the rule's own status and reason answer a refusal
    const refused = await custom('globex');
    expect(refused.status).toBe(401);
    expect(refused.body).toMatch(/^wrong tenant/);
    expect(proxy.output()).toMatch(/policy rules changed; recompiling the route table/);
  });

  it("serves a replaced bundle's answers at once, though the rule's decisions are cached", async () => {
    // A new bundle version makes new caches (the proxy recompiles) and, until the new table serves, the
    // engine's generation empties the old ones (proxy/access/decision-cache.test.ts tests that alone).
    const version = (answer: string) =>
      buildBundle(
        {
          'catalog.rego': `package tenantgate.access
catalog := {"same-tenant": {"entrypoint": "tenantgate/access/same_tenant/decision", "reads": "tenantgate/access/same_tenant/reads", "description": "x-tenant and the route's tenant", "schema": {"type": "object"}}}`,
          'same_tenant.rego': `package tenantgate.access.same_tenant
reads := {"fields": ["tenant"], "headers": ["x-tenant"]}
default decision := {"allow": false, "status": 403, "reason": "wrong tenant"}
decision := {"allow": true, "status": 200, "reason": "ok"} if ${answer}`,
        },
        [
          'tenantgate/access/catalog',
          'tenantgate/access/same_tenant/decision',
          'tenantgate/access/same_tenant/reads',
        ],
      );
    const hits = async () =>
      metricValue(await proxy.metrics(), 'tenantgate_access_decision_cache_total', {
        policy: `${NS}/same-tenant`,
        decision: 'hit',
      });
    bundleDir.write('team-rules.tar.gz', version('input.headers["x-tenant"] == input.tenant'));
    const before = await hits();
    await eventually(async () => {
      // the same request again and again: once the new version serves, the repeats are cache hits
      for (let i = 0; i < 3; i++)
        if ((await status('custom.test', { headers: { 'x-tenant': 'acme' } })) !== 200) return false;
      return (await hits()) > before;
    }, 20_000);
    expect(await status('custom.test', { headers: { 'x-tenant': 'globex' } })).toBe(403);

    // the opposite answer: a cached 200 for acme must not outlive the version that gave it
    bundleDir.write('team-rules.tar.gz', version('input.headers["x-tenant"] != input.tenant'));
    await eventually(
      async () => (await status('custom.test', { headers: { 'x-tenant': 'acme' } })) === 403,
      20_000,
    );
    expect(await status('custom.test', { headers: { 'x-tenant': 'globex' } })).toBe(200);
    expect(await status('custom.test', { headers: { 'x-tenant': 'acme' } })).toBe(403);
  });

  it('did all of it in the one process it started with', () => {
    expect(proxy.child.exitCode).toBeNull();
    expect(proxy.child.pid).toBe(pid);
  });
});
