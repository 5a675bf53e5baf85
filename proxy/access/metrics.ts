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

const cacheLookups = decisionCounter({
  name: 'tenantgate_access_decision_cache_total',
  help: 'AccessPolicy decision-cache lookups by policy (namespace/name) and outcome (decision: hit, the cached decision answered; miss, the rule was evaluated and its answer kept; uncached, the rule declares no reads or the key was too long)',
  decisions: ['hit', 'miss', 'uncached'] as const,
});

export type CacheTally = DecisionCounts<'hit' | 'miss' | 'uncached'>;

export const cacheTally = (policy: string): CacheTally => cacheLookups.tally(policy);

export const accessDecisionCacheTotal = cacheLookups.counter;
