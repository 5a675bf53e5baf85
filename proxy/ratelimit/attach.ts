// RateLimitPolicy objects → the route-table compiler's AttachPolicies hook. Called once per compile of the
// route table; the store (and so every counter) outlives compiles, and counter keys depend only on the
// policy, the target, the limit name and the client, so a reload or a policy edit keeps the counts.
import type { RateLimitPolicy } from '../../api/ratelimitpolicy.ts';
import type { AttachPolicies, PolicyAttachmentPoint, RequestPolicy } from '../request-policy.ts';
import { RateLimitRequestPolicy, type RateLimitHeaderOptions } from './policy.ts';
import { governing, indexPolicies, type Attachment, type PolicyIndex } from './precedence.ts';
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
  /** the hook for the route-table compiler: [] or the one RateLimitPolicy governing the point */
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
  const instances = new Map<string, RequestPolicy[]>();
  const none: readonly RequestPolicy[] = [];
  const attach: AttachPolicies = (point) => {
    const governor = governing(index, point);
    if (!governor) return none;
    const scope = counterScope(governor, point, scopeMode);
    const key = `${governor.id}\u0000${scope}`;
    let list = instances.get(key);
    if (!list) {
      list = [
        new RateLimitRequestPolicy({
          policy: governor.policy,
          scope,
          store: options.store,
          headers: options.headers,
        }),
      ];
      instances.set(key, list);
    }
    return list;
  };
  return { attach, index };
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
  if (!isGateway || mode === 'Shared') return governor.target;
  const r = point.route;
  return `${governor.target}>${r.kind}/${r.namespace}/${r.name}`;
}
