// What the access module needs from the policy engine (policies/engine.ts): the data-path evaluation, the
// rules the loaded bundles provide, and admission (to check a policy's parameters against its rule's
// schema, exactly as the webhook does), and what decision caches need (a rule's declared reads, and the
// generation that tells them to forget). A narrow type, so the proxy depends on the engine's API only.
import type { PolicyEngine } from '../../policies/engine.ts';

export type AccessEngine = Pick<
  PolicyEngine,
  'evaluateAccess' | 'accessRules' | 'evaluateAdmission' | 'bundles' | 'generation' | 'accessReads'
>;
