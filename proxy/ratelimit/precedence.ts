// Which RateLimitPolicies are in force at a (gateway, listener, route, rule) point: the shared Gateway API
// precedence of proxy/policy-attachment/ (defaults: rule > route > listener > Gateway, the older policy wins
// a tie, the other is Conflicted; plus every Gateway/listener override). Invalid rate-limit policies take no part ('ignore'), so a broken route policy
// does not switch off the Gateway's. The attach hook and the status computation share this index, so what
// status reports is what the data path does.
import type { RateLimitPolicy } from '../../api/ratelimitpolicy.ts';
import {
  indexPolicies as indexAttachedPolicies,
  type Attachment as SharedAttachment,
  type PolicyIndex as SharedPolicyIndex,
} from '../policy-attachment/precedence.ts';
import { RATE_LIMIT_FIELDS, validateRateLimitPolicy } from './validate.ts';
import { sectionsOf } from '../policy-attachment/sections.ts';

export { governing, inForce, overridesAt } from '../policy-attachment/precedence.ts';
export type { TargetLevel } from '../policy-attachment/precedence.ts';
export { policyId, targetKey } from '../policy-attachment/targets.ts';

export type Attachment = SharedAttachment<RateLimitPolicy>;
export type PolicyIndex = SharedPolicyIndex<RateLimitPolicy>;

export function indexPolicies(policies: readonly RateLimitPolicy[]): PolicyIndex {
  return indexAttachedPolicies(policies, {
    validate: validateRateLimitPolicy,
    invalid: 'ignore',
    sections: (p) => sectionsOf(p, RATE_LIMIT_FIELDS),
  });
}
