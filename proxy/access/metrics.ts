// Access-policy metrics on the shared registry.
import { decisionCounter, type DecisionCounts } from '../policy-attachment/decision-metrics.ts';

const decisions = decisionCounter({
  name: 'tenantgate_access_decisions_total',
  help: 'AccessPolicy decisions by policy (namespace/name) and outcome (allowed, denied, error: the rule failed or the policy is invalid, answered as a refusal)',
  decisions: ['allowed', 'denied', 'error'] as const,
});

export type AccessTally = DecisionCounts<'allowed' | 'denied' | 'error'>;

/** The tally of one policy (namespace/name); kept for the life of the process, like any counter series. */
export const accessTally = (policy: string): AccessTally => decisions.tally(policy);

export const accessDecisionsTotal = decisions.counter;
