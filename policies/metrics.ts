// Policy engine metrics, on the process-wide registry.
import { Counter, Histogram } from 'prom-client';
import { registry } from '../lib/metrics.ts';

export const evaluationSeconds = new Histogram({
  name: 'tenantgate_policy_evaluation_seconds',
  help: 'Time to evaluate the policies for one admission review or one data-path request, by kind (admission, access)',
  labelNames: ['kind'] as const,
  buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1],
  registers: [registry],
});

export const bundleLoads = new Counter({
  name: 'tenantgate_policy_bundle_loads_total',
  help: 'Policy bundle loads by bundle and result (loaded, refused)',
  labelNames: ['bundle', 'result'] as const,
  registers: [registry],
});

export const evaluationErrors = new Counter({
  name: 'tenantgate_policy_evaluation_errors_total',
  help: 'Policy evaluations that failed (answered as a refusal), by bundle',
  labelNames: ['bundle'] as const,
  registers: [registry],
});
