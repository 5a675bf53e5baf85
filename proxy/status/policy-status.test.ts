import { describe, expect, it } from 'vitest';
import type { Condition } from '../../api/common.ts';
import type { AttachedPolicyStatus } from '../attached-policies.ts';
import type { GatewayApiStatus } from './compute-status.ts';
import { policyObjectStatuses, withPolicyRouteConditions } from './policy-status.ts';

const CONTROLLER = 'tenantgate.io/gateway-controller';
const cond = (type: string, status: 'True' | 'False' = 'True', reason = 'Accepted'): Condition => ({
  type,
  status,
  reason,
  message: `${type} message`,
  lastTransitionTime: '2025-01-01T00:00:00Z',
});

function gatewayStatus(): GatewayApiStatus {
  const parent = (name: string, namespace?: string, controllerName = CONTROLLER) => ({
    parentRef: {
      group: 'gateway.networking.k8s.io',
      kind: 'Gateway',
      name,
      ...(namespace ? { namespace } : {}),
    },
    controllerName,
    conditions: [cond('Accepted'), cond('ResolvedRefs', 'True', 'ResolvedRefs')],
  });
  return {
    gatewayClasses: [],
    gateways: [],
    httpRoutes: [
      {
        namespace: 'team',
        name: 'api',
        generation: 4,
        status: {
          parents: [
            parent('shared', 'infra'),
            parent('internal', 'team'),
            parent('shared', 'infra', 'other.io/gw'),
          ],
        },
      },
      { namespace: 'team', name: 'untouched', status: { parents: [parent('shared', 'infra')] } },
    ],
    grpcRoutes: [
      { namespace: 'team', name: 'rpc', generation: 1, status: { parents: [parent('internal')] } },
    ],
  };
}

const empty = { policies: [], routes: [] };

describe('withPolicyRouteConditions', () => {
  it("adds each Affected condition to our parent entries for that Gateway, at the route's generation", () => {
    const policies: AttachedPolicyStatus = {
      rateLimit: {
        policies: [],
        routes: [
          {
            kind: 'HTTPRoute',
            namespace: 'team',
            name: 'api',
            gateway: { namespace: 'infra', name: 'shared' },
            condition: cond('tenantgate.io/RateLimitPolicyAffected'),
          },
          {
            kind: 'GRPCRoute',
            namespace: 'team',
            name: 'rpc',
            gateway: { namespace: 'team', name: 'internal' },
            condition: cond('tenantgate.io/RateLimitPolicyAffected'),
          },
        ],
      },
      access: {
        policies: [],
        routes: [
          {
            kind: 'HTTPRoute',
            namespace: 'team',
            name: 'api',
            gateway: { namespace: 'infra', name: 'shared' },
            condition: cond('tenantgate.io/AccessPolicyAffected', 'False', 'Invalid'),
          },
        ],
      },
      inForce: {
        policies: [],
        routes: [
          {
            kind: 'HTTPRoute',
            namespace: 'team',
            name: 'api',
            gateway: { namespace: 'infra', name: 'shared' },
            condition: cond('tenantgate.io/PoliciesInForce', 'True', 'PoliciesInForce'),
          },
        ],
      },
    };
    const out = withPolicyRouteConditions(gatewayStatus(), policies, CONTROLLER);
    const [shared, internal, foreign] = out.httpRoutes[0]!.status.parents;
    expect(shared!.conditions.map((c) => [c.type, c.status, c.observedGeneration])).toEqual([
      ['Accepted', 'True', undefined],
      ['ResolvedRefs', 'True', undefined],
      ['tenantgate.io/RateLimitPolicyAffected', 'True', 4],
      ['tenantgate.io/AccessPolicyAffected', 'False', 4],
      ['tenantgate.io/PoliciesInForce', 'True', 4],
    ]);
    // another Gateway of ours, and another controller's entry for the same Gateway, are left alone
    expect(internal!.conditions.map((c) => c.type)).toEqual(['Accepted', 'ResolvedRefs']);
    expect(foreign!.conditions.map((c) => c.type)).toEqual(['Accepted', 'ResolvedRefs']);
    expect(out.httpRoutes[1]).toEqual(gatewayStatus().httpRoutes[1]);
    // a parentRef without a namespace means the route's own
    expect(out.grpcRoutes[0]!.status.parents[0]!.conditions.map((c) => c.type)).toContain(
      'tenantgate.io/RateLimitPolicyAffected',
    );
  });

  it('returns the status unchanged when no policy affects a route', () => {
    const status = gatewayStatus();
    expect(
      withPolicyRouteConditions(status, { rateLimit: empty, access: empty, inForce: empty }, CONTROLLER),
    ).toBe(status);
  });
});

describe('policyObjectStatuses', () => {
  it('lists the policies of both kinds with their ancestors', () => {
    const ancestors = [
      {
        ancestorRef: {
          group: 'gateway.networking.k8s.io',
          kind: 'Gateway',
          namespace: 'infra',
          name: 'shared',
        },
        controllerName: CONTROLLER,
        conditions: [cond('Accepted'), cond('Enforced', 'True', 'Enforced')],
      },
    ];
    const out = policyObjectStatuses({
      rateLimit: { policies: [{ namespace: 'team', name: 'limit', status: { ancestors } }], routes: [] },
      access: { policies: [{ namespace: 'team', name: 'cidrs', status: { ancestors: [] } }], routes: [] },
      inForce: empty,
    });
    expect(out).toEqual([
      { kind: 'RateLimitPolicy', namespace: 'team', name: 'limit', ancestors },
      { kind: 'AccessPolicy', namespace: 'team', name: 'cidrs', ancestors: [] },
    ]);
  });
});
