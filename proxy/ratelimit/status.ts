// The Gateway API status that the rate-limit configuration implies: the shared policy status of
// proxy/policy-attachment/status.ts (ancestors with Accepted/Enforced, reasons TargetNotFound, Conflicted,
// Invalid, Overridden) in rate-limit words, and the `tenantgate.io/RateLimitPolicyAffected` route condition
// (True when a policy governs some rule of the route there, False/Invalid when it is targeted only by
// invalid policies).
import type { RateLimitPolicy } from '../../api/ratelimitpolicy.ts';
import {
  computePolicyStatus,
  type PolicyKindText,
  type PolicyStatusResult,
  type StatusWorld,
} from '../policy-attachment/status.ts';
import { indexPolicies, type PolicyIndex } from './precedence.ts';

export type { AncestorRef, PolicyAncestorStatus } from '../policy-attachment/status.ts';

export const RATE_LIMIT_AFFECTED = 'tenantgate.io/RateLimitPolicyAffected';

export interface RateLimitStatusInputs extends StatusWorld {
  policies: readonly RateLimitPolicy[];
  /** pass the compiled index to share its work; computed from `policies` otherwise */
  index?: PolicyIndex;
}

export type RateLimitStatusResult = PolicyStatusResult;

export const RATE_LIMIT_TEXT: PolicyKindText = {
  kind: 'RateLimitPolicy',
  affectedCondition: RATE_LIMIT_AFFECTED,
  affected: (ids) => `rate limited by RateLimitPolicy ${ids.join(', ')}`,
  invalidOnly: (ids) => `targeted by invalid RateLimitPolicy ${ids.join(', ')}; no rate limit applies`,
};

export function computeRateLimitPolicyStatus(input: RateLimitStatusInputs): RateLimitStatusResult {
  const index = input.index ?? indexPolicies(input.policies);
  return computePolicyStatus({ ...input, index, text: RATE_LIMIT_TEXT });
}
