// Audit trail metrics (the Grafana dashboards in config/monitoring read these names; keep them).
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../../lib/metrics.ts';

export const auditRefusalsTotal = new Counter({
  name: 'tenantgate_audit_refusals_total',
  help: 'Violations recorded in the audit trail, by tenant ("" for none), policy and action (deny, warn, dryrun)',
  labelNames: ['tenant', 'policy', 'action'] as const,
  registers: [registry],
});

export const auditStoreWriteSeconds = new Histogram({
  name: 'tenantgate_audit_store_write_seconds',
  help: 'Time to write a batch of audit records durably, by backend (sqlite, postgres, spool)',
  labelNames: ['backend'] as const,
  buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  registers: [registry],
});

export const auditSpoolDepth = new Gauge({
  name: 'tenantgate_audit_spool_depth',
  help: 'Audit records spooled on local disk and not yet shipped to the shared store',
  registers: [registry],
});

export const auditRecordsPrunedTotal = new Counter({
  name: 'tenantgate_audit_records_pruned_total',
  help: 'Audit records deleted by retention (age or count), by backend',
  labelNames: ['backend'] as const,
  registers: [registry],
});

export const auditWatchStreamsTotal = new Counter({
  name: 'tenantgate_audit_watch_streams_total',
  help: 'Watch streams opened on the audit API (a client reconnecting opens another)',
  registers: [registry],
});
