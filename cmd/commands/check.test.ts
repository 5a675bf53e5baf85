import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const run = async (args: string[]) => {
  try {
    const { stdout, stderr } = await promisify(execFile)(join(root, 'node_modules/.bin/node'), [
      join(root, 'cmd/tenantgate.ts'),
      'check',
      ...args,
    ]);
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
};

const dir = mkdtempSync(join(tmpdir(), 'tg-check-'));
const data = join(dir, 'cluster.yaml');
writeFileSync(
  data,
  `apiVersion: tenantgate.io/v1alpha1
kind: Tenant
metadata: {name: acme, uid: uid-acme}
spec:
  owners: [{kind: User, name: alice}]
  namespaces: [{name: acme-web}, {name: acme-api}]
  gateways: [{name: shared, namespace: infra, sectionNames: [http]}]
  hostnames: [acme.example.com, "*.acme.example.com"]
  limits: {maxRoutes: 5, rateLimit: {requests: 100, unit: Second}}
---
apiVersion: tenantgate.io/v1alpha1
kind: Tenant
metadata: {name: globex, uid: uid-globex}
spec: {namespaces: [{name: globex-web}], hostnames: [globex.example.com]}
`,
);
const good = join(dir, 'good.yaml');
writeFileSync(
  good,
  `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: http}]
  hostnames: [shop.acme.example.com]
  rules: [{backendRefs: [{name: shop, port: 80}]}]
`,
);
const bad = join(dir, 'bad.json');
writeFileSync(
  bad,
  JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'steal', namespace: 'acme-web' },
        spec: {
          hostnames: ['globex.example.com'],
          parentRefs: [{ name: 'shared', namespace: 'infra', sectionName: 'http' }],
        },
      },
      {
        apiVersion: 'tenantgate.io/v1alpha1',
        kind: 'RateLimitPolicy',
        metadata: { name: 'rl' },
        spec: { targetRefs: [], limits: [{ name: 'a', requests: 500, unit: 'Second' }] },
      },
    ],
  }),
);

const overrides = join(dir, 'overrides.yaml');
writeFileSync(
  overrides,
  `apiVersion: tenantgate.io/v1alpha1
kind: AccessPolicy
metadata: {name: open-all, namespace: acme-web}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: shop}]
  overrides: {rule: allow-cidrs, parameters: {cidrs: [0.0.0.0/0]}}
---
apiVersion: tenantgate.io/v1alpha1
kind: RateLimitPolicy
metadata: {name: platform, namespace: infra}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: shared}]
  overrides: {limits: [{name: all, requests: 1000, unit: Second}]}
`,
);

describe('tenantgate check', () => {
  it('denies spec.overrides in a tenant namespace and allows them in a platform namespace', async () => {
    const r = await run(['-f', overrides, '--data', data]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`AccessPolicy acme-web/open-all (${overrides}#1): DENIED`);
    expect(r.stdout).toContain(
      "[policy-overrides] AccessPolicy acme-web/open-all sets spec.overrides in namespace 'acme-web' of tenant 'acme', but only the platform team may override",
    );
    expect(r.stdout).toContain(`RateLimitPolicy infra/platform (${overrides}#2): allowed`);
  });

  it('prints each decision and exits 0 when nothing would be denied', async () => {
    const r = await run(['-f', good, '--data', data, '--tenant', 'acme']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `HTTPRoute acme-web/shop (${good}#1): allowed\n1 object(s) checked, 0 would be denied\n`,
    );
  });

  it('exits 1 and names policy and fix for each denial', async () => {
    const r = await run(['-f', good, '-f', bad, '--data', data, '--tenant', 'acme']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`HTTPRoute acme-web/steal (${bad}#1.1): DENIED`);
    expect(r.stdout).toContain(
      "  deny   [route-hostnames] spec.hostnames[0] 'globex.example.com' is not among tenant 'acme' hostnames",
    );
    expect(r.stdout).toContain(`RateLimitPolicy acme-web/rl (${bad}#1.2): DENIED`);
    expect(r.stdout).toContain("[ratelimit-ceiling] spec.limits[0] ('a') allows 500 requests per Second");
    expect(r.stdout).toContain('3 object(s) checked, 2 would be denied');
  });

  it('applies the enforcement actions of a policy config, and prints JSON', async () => {
    const config = join(dir, 'policy.yaml');
    writeFileSync(config, 'enforcement: {policies: {route-hostnames: warn, ratelimit-ceiling: dryrun}}\n');
    const r = await run([
      '-f',
      bad,
      '--data',
      data,
      '--tenant',
      'acme',
      '--policy-config',
      config,
      '-o',
      'json',
    ]);
    expect(r.code).toBe(0);
    const results = JSON.parse(r.stdout) as {
      object: string;
      allowed: boolean;
      decisions: { policy: string; action: string }[];
    }[];
    expect(
      results.map((x) => [x.object, x.allowed, x.decisions.map((d) => `${d.policy}:${d.action}`)]),
    ).toEqual([
      ['HTTPRoute acme-web/steal', true, ['route-hostnames:warn']],
      ['RateLimitPolicy acme-web/rl', true, ['ratelimit-ceiling:dryrun']],
    ]);
  });

  it('exits 2 on usage errors', async () => {
    expect((await run([])).code).toBe(2);
    const r = await run(['-f', good, '--tenant', 'nobody', '--data', data]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("tenant 'nobody' is not among the Tenants in --data (acme, globex)");
  });
});
