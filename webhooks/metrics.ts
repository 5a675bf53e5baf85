// Admission webhook metrics, on the process-wide registry. Policy evaluation time is the engine's
// tenantgate_policy_evaluation_seconds{kind="admission"}.
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../lib/metrics.ts';

export const decisionsTotal = new Counter({
  name: 'tenantgate_admission_decisions_total',
  help: 'Policy violations found at admission, by policy and enforcement action (deny, warn, dryrun)',
  labelNames: ['policy', 'action'] as const,
  registers: [registry],
});

export const reviewsTotal = new Counter({
  name: 'tenantgate_admission_reviews_total',
  help: 'AdmissionReviews answered, by result (allowed, denied, invalid: HTTP 400/413, error: deadline or failure)',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const reviewSeconds = new Histogram({
  name: 'tenantgate_admission_review_seconds',
  help: 'Time from an AdmissionReview arriving to its answer being sent',
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 3],
  registers: [registry],
});

export const quotaClaimsTotal = new Counter({
  name: 'tenantgate_quota_claims_total',
  help: 'CREATEs checked against a count-type Tenant limit, by limit and result (reserved: a slot written to the ledger; existing: the object already holds one; dryrun: answered, nothing reserved; over: no slot left; error: the ledger could not be read or written)',
  labelNames: ['limit', 'result'] as const,
  registers: [registry],
});

export const quotaLedgerWritesTotal = new Counter({
  name: 'tenantgate_quota_ledger_writes_total',
  help: 'Writes of a tenant reservation ledger (ConfigMap), by result (written; conflict: another replica or request wrote first, read again and retried; error)',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const quotaPrunedTotal = new Counter({
  name: 'tenantgate_quota_reservations_pruned_total',
  help: 'Reservations dropped from the ledgers, by reason (settled: the object is visible, or was deleted; expired: its CREATE never completed)',
  labelNames: ['reason'] as const,
  registers: [registry],
});

export const quotaBatchSize = new Histogram({
  name: 'tenantgate_quota_batch_claims',
  help: 'Claims decided by one ledger read-modify-write (concurrent reviews of one tenant share one write)',
  buckets: [1, 2, 5, 10, 20, 50, 100],
  registers: [registry],
});

/** Where the per-tenant route counts come from: each running webhook's policy engine (tests run several). */
const routeCountSources = new Set<() => Readonly<Record<string, number>>>();

/**
 * Reports a webhook's route counts (its policies' inventory) as tenantgate_tenant_routes until the
 * returned function is called.
 */
export function reportTenantRoutes(source: () => Readonly<Record<string, number>>): () => void {
  routeCountSources.add(source);
  return () => routeCountSources.delete(source);
}

export const tenantRoutes = new Gauge({
  name: 'tenantgate_tenant_routes',
  help: "HTTPRoutes + GRPCRoutes of each Tenant as this replica's policies count them (what spec.limits.maxRoutes is checked against)",
  labelNames: ['tenant'] as const,
  registers: [registry],
  collect() {
    // read at scrape time: the inventory is rebuilt on every change, a copy would only lag behind it
    this.reset();
    for (const source of routeCountSources)
      for (const [tenant, count] of Object.entries(source())) this.set({ tenant }, count);
  },
});
