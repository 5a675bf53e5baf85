// The attached policies' part of the status (cluster mode): the `tenantgate.io/RateLimitPolicyAffected`,
// `tenantgate.io/AccessPolicyAffected` and `tenantgate.io/PoliciesInForce` conditions go onto the routes' own `status.parents` entries
// (the one list the Gateway API gives a route, which our route status already writes — two writers of one
// list would undo each other), and each RateLimitPolicy/AccessPolicy gets `status.ancestors`. Pure.
import type { Condition } from '../../api/common.ts';
import type { AttachedPolicyStatus } from '../attached-policies.ts';
import type { PolicyAncestorStatus, PolicyStatusResult } from '../policy-attachment/status.ts';
import type { GatewayApiStatus, RouteParentStatus } from './compute-status.ts';

export type PolicyKind = 'RateLimitPolicy' | 'AccessPolicy';

export interface PolicyObjectStatus {
  kind: PolicyKind;
  namespace: string;
  name: string;
  ancestors: PolicyAncestorStatus[];
}

/** The Gateway API status with the policies' route conditions added to the matching route parents. */
export function withPolicyRouteConditions(
  status: GatewayApiStatus,
  policies: AttachedPolicyStatus,
  controllerName: string,
): GatewayApiStatus {
  const extra = new Map<string, { gateway: { namespace: string; name: string }; condition: Condition }[]>();
  for (const result of [policies.rateLimit, policies.access, policies.inForce]) {
    for (const r of result.routes) {
      const key = `${r.kind}/${r.namespace}/${r.name}`;
      extra.set(key, [...(extra.get(key) ?? []), { gateway: r.gateway, condition: r.condition }]);
    }
  }
  if (extra.size === 0) return status;
  const addTo = (kind: 'HTTPRoute' | 'GRPCRoute', routes: GatewayApiStatus['httpRoutes']) =>
    routes.map((route) => {
      const mine = extra.get(`${kind}/${route.namespace ?? 'default'}/${route.name}`);
      if (!mine) return route;
      const parents = route.status.parents.map((p) => {
        if (p.controllerName !== controllerName) return p;
        const conditions = mine
          .filter((m) => refersTo(p, m.gateway, route.namespace ?? 'default'))
          .map((m) => ({ ...m.condition, observedGeneration: route.generation ?? 0 }));
        if (conditions.length === 0) return p;
        const types = new Set(conditions.map((c) => c.type));
        return { ...p, conditions: [...p.conditions.filter((c) => !types.has(c.type)), ...conditions] };
      });
      return { ...route, status: { ...route.status, parents } };
    });
  return {
    ...status,
    httpRoutes: addTo('HTTPRoute', status.httpRoutes),
    grpcRoutes: addTo('GRPCRoute', status.grpcRoutes),
  };
}

function refersTo(
  parent: RouteParentStatus,
  gateway: { namespace: string; name: string },
  routeNamespace: string,
): boolean {
  const ref = parent.parentRef;
  return (
    (ref.kind ?? 'Gateway') === 'Gateway' &&
    ref.name === gateway.name &&
    (ref.namespace ?? routeNamespace) === gateway.namespace
  );
}

/** Every policy object of both kinds with the ancestors this controller reports for it. */
export function policyObjectStatuses(policies: AttachedPolicyStatus): PolicyObjectStatus[] {
  const of = (kind: PolicyKind, result: PolicyStatusResult): PolicyObjectStatus[] =>
    result.policies.map((p) => ({
      kind,
      namespace: p.namespace,
      name: p.name,
      ancestors: p.status.ancestors,
    }));
  return [...of('RateLimitPolicy', policies.rateLimit), ...of('AccessPolicy', policies.access)];
}
