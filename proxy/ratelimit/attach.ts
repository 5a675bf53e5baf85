// RateLimitPolicy objects → the route-table compiler's AttachPolicies hook. Called once per compile of the
// route table; the store (and so every counter) outlives compiles, and counter keys depend only on the
// policy, the target, the limit name and the client, so a reload or a policy edit keeps the counts.
//
// At a point, the governing default's limits run first, then every Gateway/listener override's (see
// precedence.ts): each is one RequestPolicy, the first refusal answers with its own 429 headers, so the
// strictest limit wins. The route's own limit is asked first so that a request it refuses does not spend
// a platform-wide override budget other routes share (gatewayLimitScope Shared).
import type { RateLimit, RateLimitPolicy } from '../../api/ratelimitpolicy.ts';
import type { AttachPolicies, PolicyAttachmentPoint, RequestPolicy } from '../request-policy.ts';
import { RateLimitRequestPolicy, type RateLimitHeaderOptions } from './policy.ts';
import { inForce, indexPolicies, type Attachment, type PolicyIndex } from './precedence.ts';
import type { RateLimitStore } from './store.ts';

/**
 * How a Gateway-level policy counts: 'PerRoute' (default) gives each route its own counters, so one busy
 * route cannot starve the others; 'Shared' makes every route under the Gateway (or listener) draw from one.
 */
export type GatewayLimitScope = 'PerRoute' | 'Shared';

export interface RateLimitCompileOptions {
  /** a LocalStore (per-replica counters) or a RedisStore (shared by replicas); kept across compiles */
  store: RateLimitStore;
  gatewayLimitScope?: GatewayLimitScope;
  headers?: RateLimitHeaderOptions;
}

export interface CompiledRateLimits {
  /** the hook for the route-table compiler: the governing default, then the overrides in force */
  readonly attach: AttachPolicies;
  /** the precedence index, for computeRateLimitPolicyStatus and for logging invalid policies */
  readonly index: PolicyIndex;
}

export function compileRateLimitPolicies(
  policies: readonly RateLimitPolicy[],
  options: RateLimitCompileOptions,
): CompiledRateLimits {
  const index = indexPolicies(policies);
  const scopeMode = options.gatewayLimitScope ?? 'PerRoute';
  const instances = new Map<string, RequestPolicy>();
  const lists = new Map<string, readonly RequestPolicy[]>();
  const none: readonly RequestPolicy[] = [];
  const instance = (a: Attachment, point: PolicyAttachmentPoint): { key: string; policy: RequestPolicy } => {
    const scope = counterScope(a, point, scopeMode);
    const key = `${a.id}\u0000${scope}`;
    let policy = instances.get(key);
    if (!policy) {
      policy = new RateLimitRequestPolicy({
        policy: a.policy,
        limits: a.body.limits as RateLimit[],
        scope,
        store: options.store,
        headers: options.headers,
      });
      instances.set(key, policy);
    }
    return { key, policy };
  };
  const attach: AttachPolicies = (point) => {
    const all = rateLimitPoliciesInForce(index, point);
    if (all.length === 0) return none;
    const made = all.map((a) => instance(a, point));
    // points with the same policies in force share one list
    const listKey = made.map((m) => m.key).join('\u0001');
    let list = lists.get(listKey);
    if (!list) lists.set(listKey, (list = Object.freeze(made.map((m) => m.policy))));
    return list;
  };
  return { attach, index };
}

/** The RateLimitPolicies in force at a point, in the order the data path asks them: the default, then overrides. */
export function rateLimitPoliciesInForce(
  index: PolicyIndex,
  point: PolicyAttachmentPoint,
): readonly Attachment[] {
  const { governing, overrides } = inForce(index, point);
  return governing ? [governing, ...overrides] : overrides;
}

/**
 * The part of a counter key that says where it counts. Route-level policies count per target (a policy
 * listing two routes limits each on its own; one naming a rule counts that rule alone). Gateway-level ones
 * count per route unless told to share.
 */
export function counterScope(
  governor: Attachment,
  point: PolicyAttachmentPoint,
  mode: GatewayLimitScope,
): string {
  const isGateway = governor.level === 'Gateway' || governor.level === 'Listener';
  // an override counts apart from the same policy's defaults (their limits may share names)
  const base = governor.section === 'overrides' ? `overrides@${governor.target}` : governor.target;
  if (!isGateway || mode === 'Shared') return base;
  const r = point.route;
  return `${base}>${r.kind}/${r.namespace}/${r.name}`;
}
