// Every policy attached to routes, for one snapshot, behind the one AttachPolicies hook the route-table
// compiler takes. Per route rule the pipeline runs the AccessPolicy first, then the RateLimitPolicy: a
// request that access refuses never reaches the rate limiter, so refused traffic (a scan without the API
// key, a client outside the allowed CIDRs) cannot spend the budget of the clients that are allowed.
//
//   const policies = compileAttachedPolicies(snapshot, { rateLimitStore, engine });   // per snapshot
//   compileRouteTable(snapshot, { attachPolicies: policies.attach, ... });
//   const { rateLimit, access } = policies.status({ gateways, httpRoutes, grpcRoutes, now });
//
// The store and the engine live as long as the process (counters survive reloads; the engine's bundles
// are hot-reloaded on their own); everything else is rebuilt from each snapshot, so a policy change takes
// effect with the next route table, without a restart.
import type { AccessPolicy } from '../api/accesspolicy.ts';
import type { RateLimitPolicy } from '../api/ratelimitpolicy.ts';
import type { Logger } from '../lib/logger.ts';
import { compileAccessPolicies, type AccessPolicyIndex } from './access/attach.ts';
import { policiesInForceConditions } from './policies-in-force.ts';
import type { PolicyIndex as RateLimitPolicyIndex } from './ratelimit/precedence.ts';
import type { AccessEngine } from './access/engine.ts';
import { computeAccessPolicyStatus } from './access/status.ts';
import type { Namespace, Secret } from './model/gateway-api.ts';
import type { PolicyStatusResult, StatusWorld } from './policy-attachment/status.ts';
import { compileRateLimitPolicies, type GatewayLimitScope } from './ratelimit/attach.ts';
import type { RateLimitHeaderOptions } from './ratelimit/policy.ts';
import { computeRateLimitPolicyStatus } from './ratelimit/status.ts';
import type { RateLimitStore } from './ratelimit/store.ts';
import type { AttachPolicies, PolicyAttachmentPoint, RequestPolicy } from './request-policy.ts';

/** The policy objects of a snapshot (a ProxyInputs fits). */
export interface AttachedPolicyInputs {
  rateLimitPolicies: readonly RateLimitPolicy[];
  accessPolicies: readonly AccessPolicy[];
  /** api-key AccessPolicies read their keys here, from their own namespace only */
  secrets: readonly Secret[];
  /** the tenant of a route is its namespace's tenantgate.io/tenant label */
  namespaces: readonly Namespace[];
}

/** Long-lived dependencies, built once per process. */
export interface AttachedPolicyDeps {
  rateLimitStore: RateLimitStore;
  /** the process's PolicyEngine (policies/engine.ts) */
  engine: AccessEngine;
  gatewayLimitScope?: GatewayLimitScope;
  rateLimitHeaders?: RateLimitHeaderOptions;
  logger?: Logger;
}

/** What status() needs besides the policies: the served Gateways, the routes, the time. */
export type AttachedStatusWorld = Omit<StatusWorld, 'points'> & {
  /** default: the points the hook was called with (the table compiled with it) */
  points?: readonly PolicyAttachmentPoint[];
};

export interface AttachedPolicyStatus {
  rateLimit: PolicyStatusResult;
  access: PolicyStatusResult;
  /** the tenantgate.io/PoliciesInForce route conditions (no policy objects) */
  inForce: PolicyStatusResult;
}

export interface AttachedPolicies {
  /** for compileRouteTable: per route rule, [AccessPolicy?, RateLimitPolicy?] */
  readonly attach: AttachPolicies;
  /** every distinct point the hook was called with, in call order */
  readonly points: readonly PolicyAttachmentPoint[];
  /** policy status and route conditions of both kinds, for the status writer */
  status(world: AttachedStatusWorld): AttachedPolicyStatus;
  /** the precedence indexes the hook attaches from (for tenantgate explain) */
  readonly indexes: { access: AccessPolicyIndex; rateLimit: RateLimitPolicyIndex };
  /** invalid policies and why, for a log line per reload */
  readonly invalid: readonly {
    kind: 'RateLimitPolicy' | 'AccessPolicy';
    policy: string;
    problems: readonly string[];
  }[];
}

const NONE: readonly RequestPolicy[] = Object.freeze([]);

export function compileAttachedPolicies(
  inputs: AttachedPolicyInputs,
  deps: AttachedPolicyDeps,
): AttachedPolicies {
  const access = compileAccessPolicies(inputs.accessPolicies, {
    engine: deps.engine,
    secrets: inputs.secrets,
    namespaces: inputs.namespaces,
    logger: deps.logger,
  });
  const rateLimit = compileRateLimitPolicies(inputs.rateLimitPolicies, {
    store: deps.rateLimitStore,
    gatewayLimitScope: deps.gatewayLimitScope,
    headers: deps.rateLimitHeaders,
  });
  const points = new Map<string, PolicyAttachmentPoint>();
  const combined = new Map<
    readonly RequestPolicy[],
    Map<readonly RequestPolicy[], readonly RequestPolicy[]>
  >();
  const combine = (a: readonly RequestPolicy[], r: readonly RequestPolicy[]): readonly RequestPolicy[] => {
    if (a.length === 0) return r.length === 0 ? NONE : r;
    if (r.length === 0) return a;
    // the same pair of lists yields the same array: many rules share their policies
    let byRate = combined.get(a);
    if (!byRate) combined.set(a, (byRate = new Map()));
    let list = byRate.get(r);
    if (!list) byRate.set(r, (list = Object.freeze([...a, ...r])));
    return list;
  };
  const attach: AttachPolicies = (point) => {
    points.set(pointKey(point), point);
    return combine(access.attach(point), rateLimit.attach(point));
  };
  const invalid = [
    ...[...access.index.invalid].map(([policy, problems]) => ({
      kind: 'AccessPolicy' as const,
      policy,
      problems,
    })),
    ...[...rateLimit.index.invalid].map(([policy, problems]) => ({
      kind: 'RateLimitPolicy' as const,
      policy,
      problems,
    })),
  ];
  return {
    attach,
    get points() {
      return [...points.values()];
    },
    status(world) {
      const full: StatusWorld = { ...world, points: world.points ?? [...points.values()] };
      return {
        rateLimit: computeRateLimitPolicyStatus({
          ...full,
          policies: inputs.rateLimitPolicies,
          index: rateLimit.index,
        }),
        access: computeAccessPolicyStatus({ ...full, index: access.index }),
        inForce: {
          policies: [],
          routes: policiesInForceConditions(access.index, rateLimit.index, full.points, world.now),
        },
      };
    },
    invalid,
    indexes: { access: access.index, rateLimit: rateLimit.index },
  };
}

function pointKey(p: PolicyAttachmentPoint): string {
  const { gateway, route } = p;
  return `${gateway.namespace}/${gateway.name}#${p.listener}\u0000${route.kind}/${route.namespace}/${route.name}#${p.ruleIndex}`;
}
