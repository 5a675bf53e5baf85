import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyEngine } from '../policies/engine.ts';
import { accessPolicy, builtinEngine, point, request } from '../test/helpers/access.ts';
import { compileAttachedPolicies } from './attached-policies.ts';
import { LocalStore } from './ratelimit/local-store.ts';
import { rateLimitPolicy } from '../test/helpers/ratelimit.ts';
import type { PolicyVerdict, RequestPolicy } from './request-policy.ts';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await builtinEngine();
});

const NOW = '2025-07-01T00:00:00Z';
const snapshot = {
  accessPolicies: [accessPolicy({ name: 'ro', rule: 'methods', parameters: { methods: ['GET'] } })],
  rateLimitPolicies: [rateLimitPolicy({ name: 'two', limits: [{ name: 'x', requests: 2, unit: 'Hour' }] })],
  secrets: [],
  namespaces: [],
};

/** Runs the policies like the pipeline: in order, the first refusal answers. */
async function run(policies: readonly RequestPolicy[], method: string): Promise<number> {
  for (const p of policies) {
    const v: PolicyVerdict = await p.evaluate(request({ method }));
    if (!v.allow) return v.status;
  }
  return 200;
}

describe('compileAttachedPolicies', () => {
  it('attaches the AccessPolicy before the RateLimitPolicy', () => {
    const policies = compileAttachedPolicies(snapshot, { engine, rateLimitStore: new LocalStore() });
    const list = policies.attach(point({}));
    expect(list.map((p) => `${p.kind} ${p.name}`)).toEqual([
      'AccessPolicy team/ro',
      'RateLimitPolicy team/two',
    ]);
    expect(policies.attach(point({ ruleIndex: 1 }))).toBe(list); // shared, not rebuilt per rule
    expect(policies.attach(point({ route: 'unrelated' }))).toEqual([]);
  });

  it('lets refused requests spend no rate budget', async () => {
    const policies = compileAttachedPolicies(snapshot, { engine, rateLimitStore: new LocalStore() });
    const list = policies.attach(point({}));
    const statuses = [];
    for (const method of ['DELETE', 'DELETE', 'DELETE', 'GET', 'GET', 'GET'])
      statuses.push(await run(list, method));
    expect(statuses).toEqual([403, 403, 403, 200, 200, 429]);
  });

  it('computes the status of both kinds over the points the hook served', () => {
    const policies = compileAttachedPolicies(snapshot, { engine, rateLimitStore: new LocalStore() });
    policies.attach(point({}));
    policies.attach(point({})); // the same point twice counts once
    expect(policies.points).toHaveLength(1);
    const world = {
      gateways: [
        { metadata: { namespace: 'infra', name: 'shared' }, spec: { listeners: [{ name: 'http' }] } },
      ],
      httpRoutes: [{ metadata: { namespace: 'team', name: 'api' }, spec: { rules: [{}] } }],
      grpcRoutes: [],
      now: NOW,
    };
    const { access, rateLimit } = policies.status(world);
    expect(access.routes.map((r) => [r.condition.type, r.condition.status])).toEqual([
      ['tenantgate.io/AccessPolicyAffected', 'True'],
    ]);
    expect(rateLimit.routes.map((r) => [r.condition.type, r.condition.status])).toEqual([
      ['tenantgate.io/RateLimitPolicyAffected', 'True'],
    ]);
    expect(access.policies[0]!.status.ancestors[0]!.conditions.map((c) => c.reason)).toEqual([
      'Accepted',
      'Enforced',
    ]);
  });

  it('lists invalid policies of both kinds for the reload log', () => {
    const policies = compileAttachedPolicies(
      {
        ...snapshot,
        accessPolicies: [accessPolicy({ name: 'typo', rule: 'method' })],
        rateLimitPolicies: [
          rateLimitPolicy({ name: 'zero', limits: [{ name: 'x', requests: 0, unit: 'Hour' }] }),
        ],
      },
      { engine, rateLimitStore: new LocalStore() },
    );
    expect(policies.invalid.map((i) => `${i.kind} ${i.policy}`)).toEqual([
      'AccessPolicy team/typo',
      'RateLimitPolicy team/zero',
    ]);
  });
});
