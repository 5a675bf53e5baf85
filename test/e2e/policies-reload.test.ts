// Policy changes take effect without a restart, in one real `tenantgate proxy --from-files` process: an
// AccessPolicy file added and removed, a RateLimitPolicy edited, and a custom policy bundle (from
// --policy-config) that appears after start: the AccessPolicy naming its rule turns from invalid (500) to
// enforced once the engine loads it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../../policies/test-helpers.ts';
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
      accessYaml({
        namespace: NS,
        name: 'same-tenant',
        route: 'custom',
        rule: 'same-tenant',
        parameters: '{}',
      }),
  );
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

const status = async (host: string, headers: Record<string, string> = {}) =>
  (await request(port, '/', { host, headers })).status;

describe('policy changes without a restart (tenantgate proxy --from-files)', () => {
  it('enforces an AccessPolicy file as it is added, and stops when it is removed', async () => {
    expect(await status('guarded.test')).toBe(200);
    files.write(
      'access.yaml',
      accessYaml({
        namespace: NS,
        name: 'read-only',
        route: 'guarded',
        rule: 'methods',
        parameters: '{methods: [HEAD]}',
      }),
    );
    await eventually(async () => (await status('guarded.test')) === 403);
    fs.rmSync(path.join(files.dir, 'access.yaml'));
    await eventually(async () => (await status('guarded.test')) === 200);
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

  it('recompiles when a custom bundle providing the rule is loaded', async () => {
    // no bundle provides same-tenant yet: the policy is invalid and refuses (fail closed)
    expect(await status('custom.test', { 'x-tenant': 'acme' })).toBe(500);
    const bytes = buildBundle(
      {
        'catalog.rego': `package tenantgate.access
catalog := {"same-tenant": {"entrypoint": "tenantgate/access/same_tenant/decision", "description": "x-tenant must be the route's tenant", "schema": {"type": "object"}}}`,
        'same_tenant.rego': `package tenantgate.access.same_tenant
default decision := {"allow": false, "status": 403, "reason": "wrong tenant"}
decision := {"allow": true, "status": 200, "reason": "ok"} if input.headers["x-tenant"] == input.tenant`,
      },
      ['tenantgate/access/catalog', 'tenantgate/access/same_tenant/decision'],
    );
    bundleDir.write('team-rules.tar.gz', bytes);
    await eventually(async () => (await status('custom.test', { 'x-tenant': 'acme' })) === 200, 20_000);
    expect(await status('custom.test', { 'x-tenant': 'globex' })).toBe(403);
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
        if ((await status('custom.test', { 'x-tenant': 'acme' })) !== 200) return false;
      return (await hits()) > before;
    }, 20_000);
    expect(await status('custom.test', { 'x-tenant': 'globex' })).toBe(403);

    // the opposite answer: a cached 200 for acme must not outlive the version that gave it
    bundleDir.write('team-rules.tar.gz', version('input.headers["x-tenant"] != input.tenant'));
    await eventually(async () => (await status('custom.test', { 'x-tenant': 'acme' })) === 403, 20_000);
    expect(await status('custom.test', { 'x-tenant': 'globex' })).toBe(200);
    expect(await status('custom.test', { 'x-tenant': 'acme' })).toBe(403);
  });

  it('did all of it in the one process it started with', () => {
    expect(proxy.child.exitCode).toBeNull();
    expect(proxy.child.pid).toBe(pid);
  });
});
