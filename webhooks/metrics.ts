// Admission webhook metrics, on the process-wide registry. Policy evaluation time is the engine's
// tenantgate_policy_evaluation_seconds{kind="admission"}.
import { Counter, Histogram } from 'prom-client';
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
