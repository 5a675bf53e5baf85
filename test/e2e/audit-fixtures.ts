// Audit records for the audit tests: a refused HTTPRoute by default, any field overridden.
import type { AuditRecord } from '../../webhooks/audit-log.ts';

export function sampleRecord(overrides: Partial<AuditRecord> = {}): AuditRecord {
  const record: AuditRecord = {
    time: '2026-03-01T12:00:00.000Z',
    uid: 'uid-sample',
    dryRun: false,
    user: 'alice',
    groups: ['acme-devs', 'system:authenticated'],
    operation: 'CREATE',
    kind: 'HTTPRoute',
    apiVersion: 'gateway.networking.k8s.io/v1',
    namespace: 'acme-web',
    name: 'shop',
    tenant: 'acme',
    action: 'deny',
    allowed: false,
    violations: [
      {
        policy: 'route-hostnames',
        action: 'deny',
        message: "spec.hostnames[0] 'shop.globex.example.com' is not among tenant 'acme' hostnames",
        bundle: 'builtin',
      },
    ],
    ...overrides,
  };
  // an explicit `namespace: undefined` means a cluster-scoped object
  if ('namespace' in overrides && overrides.namespace === undefined) delete record.namespace;
  record.object ??= {
    apiVersion: record.apiVersion,
    kind: record.kind,
    metadata: { name: record.name, ...(record.namespace ? { namespace: record.namespace } : {}) },
    spec: { hostnames: ['shop.globex.example.com'] },
  };
  return record;
}
