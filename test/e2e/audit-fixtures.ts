// Audit records for the audit tests: a refused HTTPRoute by default, any field overridden; and the real
// PostgreSQL server and temp dir a test file's stores live in.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { AuditRecord } from '../../webhooks/audit-log.ts';
import { startPostgres, type PostgresServer } from '../env/postgres.ts';

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

/**
 * An AdmissionReview as the API server sends it: mallory creates HTTPRoute r-<uid> in `namespace` with
 * `hostname` (another tenant's, for a refusal by route-hostnames).
 */
export function routeReview(uid: string, namespace: string, hostname: string) {
  const name = `r-${uid}`;
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: 'gateway.networking.k8s.io', version: 'v1', kind: 'HTTPRoute' },
      resource: { group: 'gateway.networking.k8s.io', version: 'v1', resource: 'httproutes' },
      operation: 'CREATE',
      namespace,
      name,
      userInfo: { username: 'mallory', groups: ['system:authenticated'] },
      object: {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name, namespace },
        spec: { hostnames: [hostname], rules: [{}] },
      },
      oldObject: null,
      dryRun: false,
    },
  };
}

export interface AuditTestEnv {
  /** a real PostgreSQL server (createDatabase gives each test its own database) */
  readonly pg: PostgresServer;
  /** a temp dir for SQLite files and spools */
  readonly dir: string;
}

/** Starts PostgreSQL and makes a temp dir (prefix `dirPrefix`) before the file's tests; removes both after. */
export function auditTestEnv(dirPrefix: string): AuditTestEnv {
  const env = {} as { pg?: PostgresServer; dir?: string };
  beforeAll(async () => {
    env.dir = mkdtempSync(join(tmpdir(), dirPrefix));
    env.pg = await startPostgres();
  });
  afterAll(async () => {
    await env.pg?.stop();
    if (env.dir) rmSync(env.dir, { recursive: true, force: true });
  });
  return env as AuditTestEnv;
}
