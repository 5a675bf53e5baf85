// GEP-713 defaults and overrides: how the precedence index reads them, what each kind attaches from it,
// and the status and route condition that tell it.
import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyEngine } from '../../policies/engine.ts';
import { compileAccessPolicies } from '../access/attach.ts';
import { accessPolicy, builtinEngine } from '../../test/helpers/access.ts';
import { compileAttachedPolicies } from '../attached-policies.ts';
import { compileRateLimitPolicies } from '../ratelimit/attach.ts';
import { policiesInForceConditions } from '../policies-in-force.ts';
import { createLocalStore } from '../ratelimit/local-store.ts';
import type { RateLimitRequestPolicy } from '../ratelimit/policy.ts';
import type { rateLimitPolicy } from '../../test/helpers/ratelimit.ts';
import { point, request } from '../../test/helpers/ratelimit.ts';
import { validateRateLimitPolicy } from '../ratelimit/validate.ts';
import type { PolicyVerdict, RequestPolicy } from '../request-policy.ts';
import { inForce, indexPolicies } from './precedence.ts';
import { policySections, sectionsOf } from './sections.ts';
import { ancestorSummary, policyObject } from '../../test/helpers/policy-attachment.ts';

const GW = { kind: 'Gateway' as const, name: 'shared' };
const LISTENER = { kind: 'Gateway' as const, name: 'shared', sectionName: 'http' };
const limit = (name: string, requests: number) => ({ name, requests, unit: 'Minute' as const });

/** A RateLimitPolicy in the defaults/overrides form. */
function rlp(
  name: string,
  namespace: string,
  targetRefs: Parameters<typeof policyObject>[0]['targetRefs'],
  spec: Record<string, unknown>,
  creationTimestamp?: string,
) {
  return policyObject(
    { kind: 'RateLimitPolicy', defaultName: name, namespace, targetRefs, creationTimestamp },
    spec,
  ) as unknown as ReturnType<typeof rateLimitPolicy>;
}

describe('policySections', () => {
  it('reads the top-level form as defaults, and defaults and overrides where they are', () => {
    expect(policySections({ limits: [] }, ['limits']).sections.map((s) => [s.section, s.at])).toEqual([
      ['defaults', 'spec'],
    ]);
    const both = policySections({ defaults: { limits: [] }, overrides: { limits: [] } }, ['limits']);
    expect(both.sections.map((s) => [s.section, s.at])).toEqual([
      ['defaults', 'spec.defaults'],
      ['overrides', 'spec.overrides'],
    ]);
    expect(both.problems).toEqual([]);
  });

  it('refuses both spellings of defaults, and a section that is no object, naming the fix', () => {
    const r = policySections({ rule: 'methods', defaults: { rule: 'methods' }, overrides: 'x' }, [
      'rule',
      'parameters',
    ]);
    expect(r.problems).toEqual([
      'spec.defaults: spec.rule/spec.parameters and spec.defaults are two spellings of the same defaults — set one: move spec.rule/spec.parameters under spec.defaults, or remove spec.defaults',
      'spec.overrides: must be an object holding rule, parameters',
    ]);
    // the top-level form is the one read
    expect(r.sections.map((s) => s.at)).toEqual(['spec']);
  });

  it('validateRateLimitPolicy checks each section at its own path', () => {
    const p = rlp('p', 'infra', [GW], {
      defaults: { limits: [limit('a', 0)] },
      overrides: { limits: [] },
    });
    expect(validateRateLimitPolicy(p)).toEqual([
      'spec.defaults.limits[0].requests: must be an integer from 1 to 1000000000 (got 0)',
      'spec.overrides.limits: must list 1 to 16 limits',
    ]);
  });
});

describe('precedence with overrides', () => {
  const sections = (p: unknown) => sectionsOf(p, ['limits']);
  const index = (policies: ReturnType<typeof rlp>[]) =>
    indexPolicies(policies, { validate: validateRateLimitPolicy, sections });

  it('every Gateway and listener override is in force beside the most specific default', () => {
    const idx = index([
      rlp('gw-override', 'infra', [GW], { overrides: { limits: [limit('o', 1)] } }, '2025-01-02T00:00:00Z'),
      rlp(
        'listener-override',
        'infra',
        [LISTENER],
        { overrides: { limits: [limit('o', 1)] } },
        '2025-01-01T00:00:00Z',
      ),
      rlp('gw-default', 'infra', [GW], { defaults: { limits: [limit('d', 1)] } }),
      rlp('route', 'team', [{ name: 'api' }], { limits: [limit('r', 1)] }),
    ]);
    const at = inForce(idx, point({}));
    expect(at.overrides.map((a) => a.id)).toEqual(['infra/gw-override', 'infra/listener-override']);
    expect(at.governing?.id).toBe('team/route');
    // another route: the Gateway default governs it, the overrides still apply
    const other = inForce(idx, point({ route: 'web' }));
    expect(other.governing?.id).toBe('infra/gw-default');
    expect(other.overrides).toHaveLength(2);
    // another listener: only the Gateway-wide override
    expect(inForce(idx, point({ listener: 'https' })).overrides.map((a) => a.id)).toEqual([
      'infra/gw-override',
    ]);
    expect(idx.conflicts.size).toBe(0);
  });

  it('an override on a route is the most specific policy there: it ranks ahead of a default', () => {
    const idx = index([
      rlp('older-default', 'team', [{ name: 'api' }], { limits: [limit('d', 1)] }, '2020-01-01T00:00:00Z'),
      rlp('route-override', 'team', [{ name: 'api' }], { overrides: { limits: [limit('o', 1)] } }),
    ]);
    const at = inForce(idx, point({}));
    expect(at.governing).toMatchObject({ id: 'team/route-override', section: 'overrides' });
    expect(at.overrides).toEqual([]);
    expect(idx.conflicts.get('team/older-default')).toEqual([
      { targetIndex: 0, winner: 'team/route-override' },
    ]);
  });
});

describe('RateLimitPolicy overrides on the data path', () => {
  const compile = (policies: ReturnType<typeof rlp>[]) =>
    compileRateLimitPolicies(policies, { store: createLocalStore() });
  const run = async (list: readonly RequestPolicy[]): Promise<PolicyVerdict> => {
    for (const p of list) {
      const v = await p.evaluate(request());
      if (!v.allow) return v;
    }
    return { allow: true };
  };

  it('the route default runs first, then the override; the stricter refuses with its own headers', async () => {
    const { attach } = compile([
      rlp('platform', 'infra', [GW], { overrides: { limits: [limit('platform', 3)] } }),
      rlp('tenant', 'team', [{ name: 'api' }], { defaults: { limits: [limit('tenant', 5)] } }),
    ]);
    const list = attach(point({}));
    expect(list.map((p) => p.name)).toEqual(['team/tenant', 'infra/platform']);
    for (let i = 0; i < 3; i++) expect((await run(list)).allow).toBe(true);
    const refused = await run(list);
    expect(refused).toMatchObject({ allow: false, status: 429 });
    expect(refused.allow === false && refused.reason).toContain(
      'rate limit platform of RateLimitPolicy infra/platform',
    );
    expect(refused.headers?.['x-ratelimit-limit']).toBe('3');
  });

  it('a stricter route default refuses first; the override does not spend its budget on it', async () => {
    const { attach } = compile([
      rlp('platform', 'infra', [GW], { overrides: { limits: [limit('platform', 5)] } }),
      rlp('tenant', 'team', [{ name: 'api' }], { limits: [limit('tenant', 2)] }),
    ]);
    const list = attach(point({}));
    for (let i = 0; i < 2; i++) expect((await run(list)).allow).toBe(true);
    const refused = await run(list);
    expect(refused).toMatchObject({ allow: false, status: 429, headers: { 'x-ratelimit-limit': '2' } });
    // the platform limit counted the 2 allowed requests, not the refused one: 3 of its 5 are left
    const platform = list[1]!;
    for (let i = 0; i < 3; i++)
      expect(((await platform.evaluate(request())) as PolicyVerdict).allow).toBe(true);
    expect(((await platform.evaluate(request())) as PolicyVerdict).allow).toBe(false);
  });

  it('a policy with both sections counts its overrides apart from its defaults', () => {
    const { attach } = compile([
      rlp('both', 'infra', [GW], {
        defaults: { limits: [limit('same', 1)] },
        overrides: { limits: [limit('same', 1)] },
      }),
    ]);
    const list = attach(point({})) as RateLimitRequestPolicy[];
    expect(list).toHaveLength(2);
    expect(list[0]!.limits[0]!.keyPrefix).not.toBe(list[1]!.limits[0]!.keyPrefix);
  });
});

describe('AccessPolicy overrides on the data path', () => {
  let engine: PolicyEngine;
  beforeAll(async () => {
    engine = await builtinEngine();
  });
  const cidrs = (list: string[]) => ({ cidrs: list });

  it('a tenant route policy cannot replace a Gateway override: both must allow, the override first', () => {
    const { attach } = compileAccessPolicies(
      [
        policyObject(
          { kind: 'AccessPolicy', defaultName: 'platform', namespace: 'infra', targetRefs: [GW] },
          { overrides: { rule: 'allow-cidrs', parameters: cidrs(['10.0.0.0/8']) } },
        ) as never,
        accessPolicy({ name: 'tenant', rule: 'allow-cidrs', parameters: cidrs(['0.0.0.0/0']) }),
      ],
      { engine, secrets: [], namespaces: [] },
    );
    const list = attach(point({}));
    expect(list.map((p) => p.name)).toEqual(['infra/platform', 'team/tenant']);
    const outside = request({ sourceIp: '192.0.2.1' });
    const first = list.map((p) => p.evaluate(outside) as PolicyVerdict).find((v) => !v.allow);
    expect(first).toMatchObject({ allow: false, status: 403 });
    expect(first!.allow === false && first!.reason).toContain('AccessPolicy infra/platform');
    expect(list.every((p) => (p.evaluate(request({ sourceIp: '10.1.2.3' })) as PolicyVerdict).allow)).toBe(
      true,
    );
  });

  it('an invalid override fails closed on every route under it', () => {
    const { attach, index } = compileAccessPolicies(
      [
        policyObject(
          { kind: 'AccessPolicy', defaultName: 'broken', namespace: 'infra', targetRefs: [GW] },
          { overrides: { rule: 'no-such-rule' } },
        ) as never,
      ],
      { engine, secrets: [], namespaces: [] },
    );
    expect(index.invalid.get('infra/broken')?.[0]).toContain("spec.overrides.rule: 'no-such-rule'");
    const v = attach(point({ route: 'any' }))[0]!.evaluate(request()) as PolicyVerdict;
    expect(v).toMatchObject({ allow: false, status: 500 });
  });
});

describe('status and the PoliciesInForce route condition', () => {
  let engine: PolicyEngine;
  beforeAll(async () => {
    engine = await builtinEngine();
  });

  it('Enforced names the overrides in force beside a policy; a shadowed default is Overridden; the route lists all', () => {
    const policies = compileAttachedPolicies(
      {
        accessPolicies: [
          policyObject(
            { kind: 'AccessPolicy', defaultName: 'platform', namespace: 'infra', targetRefs: [GW] },
            { overrides: { rule: 'allow-cidrs', parameters: { cidrs: ['10.0.0.0/8'] } } },
          ) as never,
          accessPolicy({
            name: 'gw-default',
            namespace: 'infra',
            targetRefs: [GW],
            rule: 'methods',
            parameters: { methods: ['GET'] },
          }),
          accessPolicy({ name: 'tenant', rule: 'allow-cidrs', parameters: { cidrs: ['0.0.0.0/0'] } }),
        ],
        rateLimitPolicies: [rlp('platform-rl', 'infra', [GW], { overrides: { limits: [limit('p', 100)] } })],
        secrets: [],
        namespaces: [],
      },
      { engine, rateLimitStore: createLocalStore() },
    );
    const p = point({});
    policies.attach(p);
    const world = {
      gateways: [
        { metadata: { namespace: 'infra', name: 'shared' }, spec: { listeners: [{ name: 'http' }] } },
      ],
      httpRoutes: [{ metadata: { namespace: 'team', name: 'api' }, spec: { rules: [{}] } }],
      grpcRoutes: [],
      now: '2026-01-01T00:00:00Z',
    };
    const status = policies.status(world);
    expect(ancestorSummary(status.access, 'tenant')).toEqual([
      'Gateway/infra/shared Accepted=True/Accepted Enforced=True/Enforced',
    ]);
    const tenant = status.access.policies.find((x) => x.name === 'tenant')!.status.ancestors[0]!;
    expect(tenant.conditions[1]!.message).toBe(
      'enforced on 1 route rule(s); overrides in force there too (every request must pass them as well): infra/platform',
    );
    const platform = status.access.policies.find((x) => x.name === 'platform')!.status.ancestors[0]!;
    expect(platform.conditions[1]).toMatchObject({
      status: 'True',
      message: 'enforced as an override on 1 route rule(s)',
    });
    const shadowed = status.access.policies.find((x) => x.name === 'gw-default')!.status.ancestors[0]!;
    expect(shadowed.conditions[1]).toMatchObject({
      status: 'False',
      reason: 'Overridden',
      message: 'more specific policies govern every route rule here: team/tenant',
    });
    expect(status.inForce.routes).toHaveLength(1);
    expect(status.inForce.routes[0]!.condition).toMatchObject({
      type: 'tenantgate.io/PoliciesInForce',
      status: 'True',
      message:
        'in force, in the order requests meet them: AccessPolicy infra/platform (override on Gateway/infra/shared), AccessPolicy team/tenant (default on HTTPRoute/team/api), RateLimitPolicy infra/platform-rl (override on Gateway/infra/shared)',
    });
    expect(status.access.routes[0]!.condition.message).toBe(
      'requests are authorized by AccessPolicy infra/platform, team/tenant',
    );
  });
});

describe('policiesInForceConditions', () => {
  it('lists policies per rule when the rules of a route differ, and skips routes with none', () => {
    const rl = compileRateLimitPolicies(
      [rlp('login', 'team', [{ name: 'api', sectionName: 'login' }], { limits: [limit('l', 1)] })],
      { store: createLocalStore() },
    );
    const access = compileAccessPolicies([], {
      engine: {
        accessRules: () => [],
        bundles: () => [],
        evaluateAdmission: () => ({ decisions: [], denied: false, seconds: 0 }),
        evaluateAccess: () => ({ allow: true, status: 200, reason: '' }),
        generation: 0,
        accessReads: () => undefined,
      },
      secrets: [],
      namespaces: [],
    });
    const points = [
      point({ ruleIndex: 0, ruleName: 'login' }),
      point({ ruleIndex: 1 }),
      point({ route: 'web' }),
    ];
    const out = policiesInForceConditions(access.index, rl.index, points, '2026-01-01T00:00:00Z');
    expect(out.map((r) => [r.name, r.condition.message])).toEqual([
      [
        'api',
        'in force, in the order requests meet them: rule 0 (login): RateLimitPolicy team/login (default on HTTPRoute/team/api#login); rule 1: none',
      ],
    ]);
  });
});
