import { afterEach, describe, expect, it } from 'vitest';
import { PolicyEngine } from '../policies/engine.ts';
import { buildBundle, builtinBundleBytes } from '../test/helpers/policies.ts';
import { accessPolicy, namespace, point } from '../test/helpers/access.ts';
import type { AttachedPolicyInputs } from './attached-policies.ts';
import { PolicyRuntime, redactUrl } from './policy-runtime.ts';
import { resolvePolicySettings } from './policy-settings.ts';
import { rateLimitPolicy } from '../test/helpers/ratelimit.ts';

const runtimes: PolicyRuntime[] = [];
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.close();
});

function runtime(o: Partial<ConstructorParameters<typeof PolicyRuntime>[0]> = {}): PolicyRuntime {
  const r = new PolicyRuntime({
    settings: resolvePolicySettings({}, {}),
    onRulesChanged: () => {},
    ...o,
  });
  runtimes.push(r);
  return r;
}

const inputs = (o: Partial<AttachedPolicyInputs> = {}): AttachedPolicyInputs => ({
  rateLimitPolicies: [],
  accessPolicies: [],
  secrets: [],
  namespaces: [namespace('team', 'acme')],
  ...o,
});

const limit = rateLimitPolicy({ namespace: 'team', limits: [{ name: 'all', requests: 5, unit: 'Minute' }] });
const cidrs = accessPolicy({ namespace: 'team', rule: 'allow-cidrs', parameters: { cidrs: ['10.0.0.0/8'] } });

describe('PolicyRuntime', () => {
  it('compiles rate limits on its local store without loading the engine', async () => {
    const r = runtime();
    const snapshot = inputs({ rateLimitPolicies: [limit] });
    await r.prepare(snapshot);
    const policies = r.compile(snapshot);
    expect(r.engine).toBeUndefined();
    expect(r.store.kind).toBe('local');
    expect(policies.attach(point({})).map((p) => p.kind)).toEqual(['RateLimitPolicy']);
  });

  it('loads the engine on the first AccessPolicy, and runs access before the rate limit', async () => {
    const r = runtime();
    const snapshot = inputs({ rateLimitPolicies: [limit], accessPolicies: [cidrs] });
    await r.prepare(snapshot);
    expect(r.engine).toBeDefined();
    const policies = r.compile(snapshot);
    expect(policies.invalid).toEqual([]);
    expect(policies.attach(point({})).map((p) => p.kind)).toEqual(['AccessPolicy', 'RateLimitPolicy']);
  });

  it('without a built bundle, keeps serving and marks AccessPolicies invalid (fail closed)', async () => {
    const saved = process.env.TENANTGATE_POLICY_BUNDLE;
    process.env.TENANTGATE_POLICY_BUNDLE = '/nonexistent/bundle.tar.gz';
    try {
      const r = runtime();
      const snapshot = inputs({ accessPolicies: [cidrs] });
      await r.prepare(snapshot);
      expect(r.engine).toBeUndefined();
      const policies = r.compile(snapshot);
      expect(policies.invalid[0]?.problems.join()).toMatch(
        /not a data-path rule of any loaded policy bundle/,
      );
      const verdict = await policies.attach(point({}))[0]!.evaluate({
        method: 'GET',
        path: '/',
        query: '',
        host: 'x',
        headers: {},
        sourceIp: '10.0.0.1',
        gateway: { namespace: 'infra', name: 'shared', listener: 'http' },
        route: { kind: 'HTTPRoute', namespace: 'team', name: 'api', ruleIndex: 0 },
      });
      expect(verdict).toMatchObject({ allow: false, status: 500 });
    } finally {
      if (saved === undefined) delete process.env.TENANTGATE_POLICY_BUNDLE;
      else process.env.TENANTGATE_POLICY_BUNDLE = saved;
    }
  });

  it("asks for a recompile when a shared engine's rules change", async () => {
    const engine = await PolicyEngine.create({ builtinBundle: builtinBundleBytes() });
    let changes = 0;
    const r = runtime({ engine, rulePollMs: 20, onRulesChanged: () => changes++ });
    r.compile(inputs({ accessPolicies: [cidrs] }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(changes).toBe(0); // nothing changed: no recompile
    await engine.setBundle(
      'extra',
      buildBundle(
        {
          'catalog.rego': `package tenantgate.access
catalog := {"always": {"entrypoint": "tenantgate/access/always/decision", "description": "x", "schema": {"type": "object"}}}`,
          'always.rego': `package tenantgate.access.always
decision := {"allow": true, "status": 200, "reason": "ok"}`,
        },
        ['tenantgate/access/catalog', 'tenantgate/access/always/decision'],
      ),
    );
    await expect.poll(() => changes).toBe(1);
  });

  it('builds a Redis store when given a URL, and never logs its password', async () => {
    const r = runtime({ settings: resolvePolicySettings({ rateLimitRedis: 'redis://127.0.0.1:1' }, {}) });
    expect(r.store.kind).toBe('redis');
    expect(redactUrl('redis://user:s3cret@redis:6379/0')).toBe('redis://user:***@redis:6379/0');
    expect(redactUrl('rediss://:s3cret@redis:6379')).toBe('rediss://:***@redis:6379');
    expect(redactUrl('redis://redis:6379')).toBe('redis://redis:6379');
  });
});
