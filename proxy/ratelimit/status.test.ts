import { describe, expect, it } from 'vitest';
import type { RateLimitPolicy } from '../../api/ratelimitpolicy.ts';
import { computeRateLimitPolicyStatus, RATE_LIMIT_AFFECTED, type RateLimitStatusResult } from './status.ts';
import { ancestorSummary as summary } from '../../test/helpers/policy-attachment.ts';
import { point, rateLimitPolicy } from '../../test/helpers/ratelimit.ts';

const NOW = '2025-07-01T00:00:00Z';
const limits = [{ name: 'x', requests: 1, unit: 'Second' as const }];
const gateways = [
  {
    metadata: { namespace: 'infra', name: 'shared' },
    spec: { listeners: [{ name: 'http' }, { name: 'https' }] },
  },
  { metadata: { namespace: 'infra', name: 'other' }, spec: { listeners: [{ name: 'http' }] } },
];
const httpRoutes = [
  { metadata: { namespace: 'team', name: 'api' }, spec: { rules: [{ name: 'login' }, {}] } },
  { metadata: { namespace: 'team', name: 'web' }, spec: { rules: [{}] } },
  { metadata: { namespace: 'team', name: 'lonely' }, spec: { rules: [{}] } },
];
const points = [
  point({ route: 'api', listener: 'http', ruleIndex: 0, ruleName: 'login' }),
  point({ route: 'api', listener: 'http', ruleIndex: 1 }),
  point({ route: 'api', listener: 'https', ruleIndex: 0, ruleName: 'login' }),
  point({ route: 'api', listener: 'https', ruleIndex: 1 }),
  point({ route: 'web', listener: 'http' }),
];

function statusOf(policies: RateLimitPolicy[]): RateLimitStatusResult {
  return computeRateLimitPolicyStatus({ policies, gateways, httpRoutes, grpcRoutes: [], points, now: NOW });
}

describe('computeRateLimitPolicyStatus', () => {
  const result = statusOf([
    rateLimitPolicy({
      name: 'api-limits',
      targetRefs: [{ name: 'api' }],
      limits,
      creationTimestamp: '2025-01-01T00:00:00Z',
      generation: 4,
    }),
    rateLimitPolicy({
      name: 'api-dup',
      targetRefs: [{ name: 'api' }],
      limits,
      creationTimestamp: '2025-02-01T00:00:00Z',
    }),
    rateLimitPolicy({ name: 'login', targetRefs: [{ name: 'api', sectionName: 'login' }], limits }),
    rateLimitPolicy({ name: 'ghost', targetRefs: [{ name: 'nowhere' }], limits }),
    rateLimitPolicy({ name: 'bad-rule', targetRefs: [{ name: 'api', sectionName: 'nope' }], limits }),
    rateLimitPolicy({
      name: 'broken',
      targetRefs: [{ name: 'web' }],
      limits: [{ name: 'x', requests: 0, unit: 'Second' }],
    }),
    rateLimitPolicy({ name: 'unattached', targetRefs: [{ name: 'lonely' }], limits }),
    rateLimitPolicy({
      name: 'gw-https',
      namespace: 'infra',
      targetRefs: [{ kind: 'Gateway', name: 'shared', sectionName: 'https' }],
      limits,
    }),
    rateLimitPolicy({
      name: 'gw-other',
      namespace: 'infra',
      targetRefs: [{ kind: 'Gateway', name: 'other' }],
      limits,
    }),
    rateLimitPolicy({
      name: 'gw-ftp',
      namespace: 'infra',
      targetRefs: [{ kind: 'Gateway', name: 'shared', sectionName: 'ftp' }],
      limits,
    }),
    rateLimitPolicy({
      name: 'gw-gone',
      namespace: 'infra',
      targetRefs: [{ kind: 'Gateway', name: 'gone' }],
      limits,
    }),
  ]);

  it('accepts and enforces a policy on the Gateways its route is attached to', () => {
    expect(summary(result, 'api-limits')).toEqual([
      'Gateway/infra/shared Accepted=True/Accepted Enforced=True/Enforced',
    ]);
    const [ancestor] = result.policies.find((p) => p.name === 'api-limits')!.status.ancestors;
    expect(ancestor!.controllerName).toBe('tenantgate.io/gateway-controller');
    expect(ancestor!.ancestorRef).toEqual({
      group: 'gateway.networking.k8s.io',
      kind: 'Gateway',
      namespace: 'infra',
      name: 'shared',
    });
    expect(ancestor!.conditions[1]).toMatchObject({
      observedGeneration: 4,
      lastTransitionTime: NOW,
      message: 'enforced on 2 route rule(s); overridden on 2 by team/login',
    });
    expect(summary(result, 'login')).toEqual([
      'Gateway/infra/shared Accepted=True/Accepted Enforced=True/Enforced',
    ]);
  });

  it('reports Conflicted for the newer of two policies on one target', () => {
    expect(summary(result, 'api-dup')).toEqual([
      'Gateway/infra/shared Accepted=False/Conflicted Enforced=False/Conflicted',
    ]);
    const c = result.policies.find((p) => p.name === 'api-dup')!.status.ancestors[0]!.conditions[0]!;
    expect(c.message).toBe(
      'spec.targetRefs[0]: team/api-limits is older and targets the same HTTPRoute; it takes precedence',
    );
  });

  it('reports TargetNotFound for a missing route, rule, Gateway or listener', () => {
    expect(summary(result, 'ghost')).toEqual([
      'HTTPRoute/team/nowhere Accepted=False/TargetNotFound Enforced=False/TargetNotFound',
    ]);
    expect(summary(result, 'bad-rule')).toEqual([
      'Gateway/infra/shared Accepted=False/TargetNotFound Enforced=False/TargetNotFound',
    ]);
    expect(summary(result, 'gw-ftp')).toEqual([
      'Gateway/infra/shared Accepted=False/TargetNotFound Enforced=False/TargetNotFound',
    ]);
    expect(summary(result, 'gw-gone')).toEqual([
      'Gateway/infra/gone Accepted=False/TargetNotFound Enforced=False/TargetNotFound',
    ]);
    const c = result.policies.find((p) => p.name === 'bad-rule')!.status.ancestors[0]!.conditions[0]!;
    expect(c.message).toBe('spec.targetRefs[0]: HTTPRoute team/api has no rule named nope');
  });

  it('reports Invalid with the field and rule', () => {
    expect(summary(result, 'broken')).toEqual([
      'Gateway/infra/shared Accepted=False/Invalid Enforced=False/Invalid',
    ]);
    const c = result.policies.find((p) => p.name === 'broken')!.status.ancestors[0]!.conditions[0]!;
    expect(c.message).toBe('spec.limits[0].requests: must be an integer from 1 to 1000000000 (got 0)');
  });

  it('reports Overridden when more specific policies govern every rule, and Enforced with no routes yet', () => {
    expect(summary(result, 'gw-https')).toEqual([
      'Gateway/infra/shared Accepted=True/Accepted Enforced=False/Overridden',
    ]);
    expect(summary(result, 'gw-other')).toEqual([
      'Gateway/infra/other Accepted=True/Accepted Enforced=True/Enforced',
    ]);
  });

  it('has no ancestors for a policy whose route is attached nowhere', () => {
    expect(summary(result, 'unattached')).toEqual([]);
  });

  it('sets RateLimitPolicyAffected on the routes, per parent Gateway', () => {
    expect(result.routes).toEqual([
      {
        kind: 'HTTPRoute',
        namespace: 'team',
        name: 'api',
        gateway: { namespace: 'infra', name: 'shared' },
        condition: {
          type: RATE_LIMIT_AFFECTED,
          status: 'True',
          reason: 'Accepted',
          message: 'rate limited by RateLimitPolicy team/api-limits, team/login',
          lastTransitionTime: NOW,
        },
      },
      {
        kind: 'HTTPRoute',
        namespace: 'team',
        name: 'web',
        gateway: { namespace: 'infra', name: 'shared' },
        condition: {
          type: RATE_LIMIT_AFFECTED,
          status: 'False',
          reason: 'Invalid',
          message: 'targeted by invalid RateLimitPolicy team/broken; no rate limit applies',
          lastTransitionTime: NOW,
        },
      },
    ]);
  });

  it('marks a Gateway policy Enforced where it governs, and names the overriding policies', () => {
    const r = statusOf([
      rateLimitPolicy({
        name: 'gw',
        namespace: 'infra',
        targetRefs: [{ kind: 'Gateway', name: 'shared' }],
        limits,
      }),
      rateLimitPolicy({ name: 'api', targetRefs: [{ name: 'api' }], limits }),
    ]);
    const enforced = r.policies.find((p) => p.name === 'gw')!.status.ancestors[0]!.conditions[1]!;
    expect(enforced).toMatchObject({
      status: 'True',
      reason: 'Enforced',
      message: 'enforced on 1 route rule(s); overridden on 4 by team/api',
    });
    expect(r.routes.map((x) => `${x.name}: ${x.condition.message}`)).toEqual([
      'api: rate limited by RateLimitPolicy team/api',
      'web: rate limited by RateLimitPolicy infra/gw',
    ]);
  });
});
