import { beforeAll, describe, expect, it } from 'vitest';
import type { AccessPolicy } from '../../api/accesspolicy.ts';
import type { PolicyEngine } from '../../policies/engine.ts';
import type { PolicyStatusResult } from '../policy-attachment/status.ts';
import { ancestorSummary as summary } from '../../test/helpers/policy-attachment.ts';
import { compileAccessPolicies } from './attach.ts';
import { ACCESS_POLICY_AFFECTED, computeAccessPolicyStatus } from './status.ts';
import { accessPolicy, builtinEngine, point, secret } from '../../test/helpers/access.ts';

const NOW = '2025-07-01T00:00:00Z';
const gateways = [
  {
    metadata: { namespace: 'infra', name: 'shared' },
    spec: { listeners: [{ name: 'http' }, { name: 'https' }] },
  },
];
const httpRoutes = [
  { metadata: { namespace: 'team', name: 'api' }, spec: { rules: [{ name: 'login' }, {}] } },
  { metadata: { namespace: 'team', name: 'web' }, spec: { rules: [{}] } },
  { metadata: { namespace: 'team', name: 'admin' }, spec: { rules: [{}] } },
];
const points = [
  point({ route: 'api', ruleIndex: 0, ruleName: 'login' }),
  point({ route: 'api', ruleIndex: 1 }),
  point({ route: 'web' }),
  point({ route: 'admin', listener: 'https' }),
];
const get = { methods: ['GET'] };

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await builtinEngine();
});

function statusOf(policies: AccessPolicy[]): PolicyStatusResult {
  const { index, attach } = compileAccessPolicies(policies, {
    engine,
    secrets: [secret('team', 'keys', { a: 'k' })],
    namespaces: [],
  });
  for (const p of points) attach(p);
  return computeAccessPolicyStatus({ index, gateways, httpRoutes, grpcRoutes: [], points, now: NOW });
}

describe('computeAccessPolicyStatus', () => {
  const policies = () => [
    accessPolicy({
      name: 'api',
      targetRefs: [{ name: 'api' }],
      rule: 'methods',
      parameters: get,
      creationTimestamp: '2025-01-01T00:00:00Z',
      generation: 3,
    }),
    accessPolicy({
      name: 'api-dup',
      targetRefs: [{ name: 'api' }],
      rule: 'methods',
      parameters: get,
      creationTimestamp: '2025-02-01T00:00:00Z',
    }),
    accessPolicy({
      name: 'login',
      targetRefs: [{ name: 'api', sectionName: 'login' }],
      rule: 'api-key',
      parameters: { secretRef: { name: 'keys' } },
    }),
    accessPolicy({ name: 'ghost', targetRefs: [{ name: 'nowhere' }], rule: 'methods', parameters: get }),
    accessPolicy({
      name: 'broken',
      targetRefs: [{ name: 'web' }],
      rule: 'api-key',
      parameters: { secretRef: { name: 'missing' } },
    }),
    accessPolicy({
      name: 'gw',
      namespace: 'infra',
      targetRefs: [{ kind: 'Gateway', name: 'shared' }],
      rule: 'allow-cidrs',
      parameters: { cidrs: ['10.0.0.0/8'] },
    }),
  ];

  it('reports Accepted and Enforced per Gateway, with the reasons of the shared attachment logic', () => {
    const r = statusOf(policies());
    expect(summary(r, 'api')).toEqual(['Gateway/infra/shared Accepted=True/Accepted Enforced=True/Enforced']);
    expect(summary(r, 'api-dup')).toEqual([
      'Gateway/infra/shared Accepted=False/Conflicted Enforced=False/Conflicted',
    ]);
    expect(summary(r, 'login')).toEqual([
      'Gateway/infra/shared Accepted=True/Accepted Enforced=True/Enforced',
    ]);
    expect(summary(r, 'ghost')).toEqual([
      'HTTPRoute/team/nowhere Accepted=False/TargetNotFound Enforced=False/TargetNotFound',
    ]);
    expect(summary(r, 'broken')).toEqual([
      'Gateway/infra/shared Accepted=False/Invalid Enforced=False/Invalid',
    ]);
    expect(summary(r, 'gw')).toEqual(['Gateway/infra/shared Accepted=True/Accepted Enforced=True/Enforced']);
    const api = r.policies.find((p) => p.name === 'api')!.status.ancestors[0]!.conditions;
    expect(api[0]).toMatchObject({ observedGeneration: 3, lastTransitionTime: NOW, message: 'accepted' });
    expect(api[1]!.message).toBe('enforced on 1 route rule(s); overridden on 1 by team/login');
  });

  it('says an invalid policy refuses what it governs, and why it is invalid', () => {
    const c = statusOf(policies()).policies.find((p) => p.name === 'broken')!.status.ancestors[0]!
      .conditions[0]!;
    expect(c.message).toBe(
      'spec.parameters.secretRef: Secret team/missing not found — requests it governs are refused (500) until it is fixed',
    );
  });

  it('reports Overridden when more specific policies govern every rule a policy reaches', () => {
    const r = statusOf([
      accessPolicy({
        name: 'gw',
        namespace: 'infra',
        targetRefs: [{ kind: 'Gateway', name: 'shared', sectionName: 'https' }],
        rule: 'methods',
        parameters: get,
      }),
      accessPolicy({ name: 'admin', targetRefs: [{ name: 'admin' }], rule: 'methods', parameters: get }),
    ]);
    expect(summary(r, 'gw')).toEqual([
      'Gateway/infra/shared Accepted=True/Accepted Enforced=False/Overridden',
    ]);
  });

  it('sets AccessPolicyAffected on the routes, per parent Gateway', () => {
    const r = statusOf(policies());
    const byRoute = Object.fromEntries(r.routes.map((x) => [x.name, x.condition]));
    expect(byRoute.api).toMatchObject({
      type: ACCESS_POLICY_AFFECTED,
      status: 'True',
      reason: 'Accepted',
      message: 'requests are authorized by AccessPolicy team/api, team/login',
    });
    expect(byRoute.web).toMatchObject({
      status: 'False',
      reason: 'Invalid',
      message: 'invalid AccessPolicy team/broken refuses the requests it governs (500) until it is fixed',
    });
    expect(byRoute.admin).toMatchObject({
      status: 'True',
      message: 'requests are authorized by AccessPolicy infra/gw',
    });
  });
});
