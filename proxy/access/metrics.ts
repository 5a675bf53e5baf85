// Access-policy metrics on the shared registry. Per-request outcomes are plain numbers bumped on the hot
// path and handed to prom-client at scrape time (a labelled inc() hashes the label set on every call).
import { Counter } from 'prom-client';
import { registry } from '../../lib/metrics.ts';

const DECISIONS = ['allowed', 'denied', 'error'] as const;
export type AccessTally = Record<(typeof DECISIONS)[number], number>;

const tallies = new Map<string, AccessTally>();

/** The tally of one policy (namespace/name); kept for the life of the process, like any counter series. */
export function accessTally(policy: string): AccessTally {
  let t = tallies.get(policy);
  if (!t) {
    t = { allowed: 0, denied: 0, error: 0 };
    tallies.set(policy, t);
  }
  return t;
}

export const accessDecisionsTotal = new Counter({
  name: 'tenantgate_access_decisions_total',
  help: 'AccessPolicy decisions by policy (namespace/name) and outcome (allowed, denied, error: the rule failed or the policy is invalid, answered as a refusal)',
  labelNames: ['policy', 'decision'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const [policy, t] of tallies)
      for (const d of DECISIONS) if (t[d] > 0) this.labels(policy, d).inc(t[d]);
  },
});
