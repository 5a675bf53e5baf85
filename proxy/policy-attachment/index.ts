// Gateway API policy attachment shared by every policy kind the proxy enforces (RateLimitPolicy,
// AccessPolicy): targetRef checks, precedence (which policy governs a route rule) and policy/route status.
export { governing, indexPolicies } from './precedence.ts';
export type { Attachment, IndexOptions, InvalidPolicyMode, PolicyIndex, TargetLevel } from './precedence.ts';
export { computePolicyStatus } from './status.ts';
export type {
  AncestorRef,
  PolicyAncestorStatus,
  PolicyKindText,
  PolicyStatusInputs,
  PolicyStatusResult,
  StatusWorld,
} from './status.ts';
export { checkTargetRefs, policyId, policyNamespace, targetKey, usableTargetRefs } from './targets.ts';
export type { AttachablePolicy } from './targets.ts';
