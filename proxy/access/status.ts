// The Gateway API status that the AccessPolicy configuration implies: the shared policy status of
// proxy/policy-attachment/status.ts (ancestors with Accepted/Enforced; reasons TargetNotFound, Conflicted,
// Invalid, Overridden) in access-policy words, and the `tenantgate.io/AccessPolicyAffected` route
// condition. Pure: the index comes from compileAccessPolicies (validity depends on the engine's rules and
// the snapshot's Secrets), the points from the route-table compile.
import {
  computePolicyStatus,
  type PolicyKindText,
  type PolicyStatusResult,
  type StatusWorld,
} from '../policy-attachment/status.ts';
import type { AccessPolicyIndex } from './attach.ts';

export const ACCESS_POLICY_AFFECTED = 'tenantgate.io/AccessPolicyAffected';

export interface AccessStatusInputs extends StatusWorld {
  index: AccessPolicyIndex;
}

export type AccessStatusResult = PolicyStatusResult;

export const ACCESS_TEXT: PolicyKindText = {
  kind: 'AccessPolicy',
  affectedCondition: ACCESS_POLICY_AFFECTED,
  affected: (ids) => `requests are authorized by AccessPolicy ${ids.join(', ')}`,
  invalidOnly: (ids) =>
    `invalid AccessPolicy ${ids.join(', ')} refuses the requests it governs (500) until it is fixed`,
  invalidEffect: 'requests it governs are refused (500) until it is fixed',
};

export function computeAccessPolicyStatus(input: AccessStatusInputs): AccessStatusResult {
  return computePolicyStatus({ ...input, text: ACCESS_TEXT });
}
