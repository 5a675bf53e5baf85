// The audit store's contract, against both real backends: a SQLite file (node:sqlite) and a real
// PostgreSQL server started from a temp initdb'd directory (test/env/postgres.ts). Migrations from an empty
// database and from the previous schema version, idempotent inserts, every filter, pagination, the
// per-policy/per-tenant histogram, and retention by age and by count; on PostgreSQL, that a database
// default of synchronous_commit=off does not reach the store's commits.
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registry } from '../../lib/metrics.ts';
import type { AuditRecord } from '../../webhooks/audit-log.ts';
import { PostgresAuditStore } from '../../webhooks/audit/postgres-store.ts';
import { LATEST_SCHEMA_VERSION } from '../../webhooks/audit/schema.ts';
import { SqliteAuditStore } from '../../webhooks/audit/sqlite-store.ts';
import type { AuditQuery, AuditStore } from '../../webhooks/audit/store.ts';
import { auditTestEnv, sampleRecord } from './audit-fixtures.ts';

let dbCount = 0;

const env = auditTestEnv('tg-audit-store-');

type Open = (targetVersion?: number, reuse?: string) => Promise<{ store: AuditStore; id: string }>;

const backends: [string, Open][] = [
  [
    'sqlite',
    async (targetVersion, reuse) => {
      const id = reuse ?? join(env.dir, `store-${++dbCount}.db`);
      return { store: new SqliteAuditStore({ path: id, replica: 'pod-a', targetVersion }), id };
    },
  ],
  [
    'postgres',
    async (targetVersion, reuse) => {
      const id = reuse ?? (await env.pg.createDatabase(`store_${++dbCount}`));
      return { store: new PostgresAuditStore({ dsn: id, replica: 'pod-a', targetVersion }), id };
    },
  ],
];

const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-01T00:00:00Z');

/** 40 records over 40 hours: tenants acme/globex alternate, every 5th is about a cluster-scoped Tenant. */
function dataset(): AuditRecord[] {
  return Array.from({ length: 40 }, (_, i) => {
    const tenant = i % 2 === 0 ? 'acme' : 'globex';
    const clusterScoped = i % 5 === 0;
    return sampleRecord({
      uid: `uid-${i}`,
      time: new Date(T0 + i * HOUR).toISOString(),
      tenant,
      user: i % 4 === 0 ? 'alice' : 'bob',
      ...(clusterScoped
        ? { kind: 'Tenant', namespace: undefined, name: tenant }
        : { kind: 'HTTPRoute', namespace: `${tenant}-web`, name: `r${i}` }),
      action: i % 3 === 0 ? 'warn' : 'deny',
      violations:
        i % 3 === 0
          ? [{ policy: 'route-count', action: 'warn', message: 'too many', bundle: 'builtin' }]
          : [
              { policy: 'route-hostnames', action: 'deny', message: 'not yours', bundle: 'builtin' },
              { policy: 'route-gateways', action: 'deny', message: 'not given', bundle: 'builtin' },
            ],
    });
  });
}

async function all(store: AuditStore, q: AuditQuery): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  let token: string | undefined;
  do {
    const page = await store.query({ ...q, limit: 7, ...(token ? { continue: token } : {}) });
    out.push(...page.items);
    token = page.continue;
  } while (token);
  return out;
}

describe.each(backends)('audit store: %s', (backend, open) => {
  let store: AuditStore;
  const records = dataset();

  beforeAll(async () => {
    ({ store } = await open());
    expect(await store.migrate()).toBe(LATEST_SCHEMA_VERSION);
    expect(await store.insert(records)).toBe(40);
  });
  afterAll(() => store?.close());

  it('migrates an empty database to the latest version, and a second run changes nothing', async () => {
    expect(await store.migrate()).toBe(LATEST_SCHEMA_VERSION);
    expect((await store.query({ limit: 1000 })).items).toHaveLength(40);
  });

  it('migrates a database at the previous schema version, keeping its records', async () => {
    const old = await open(LATEST_SCHEMA_VERSION - 1);
    expect(await old.store.migrate()).toBe(LATEST_SCHEMA_VERSION - 1);
    await old.store.insert([sampleRecord({ uid: 'before-upgrade' })]);
    await old.store.close();
    const upgraded = (await open(undefined, old.id)).store;
    try {
      expect(await upgraded.migrate()).toBe(LATEST_SCHEMA_VERSION);
      await upgraded.insert([sampleRecord({ uid: 'after-upgrade', kind: 'GRPCRoute' })]);
      const uids = (await upgraded.query({})).items.map((r) => r.uid).sort();
      expect(uids).toEqual(['after-upgrade', 'before-upgrade']);
      expect((await upgraded.query({ kind: 'GRPCRoute' })).items.map((r) => r.uid)).toEqual([
        'after-upgrade',
      ]);
    } finally {
      await upgraded.close();
    }
  });

  it('stores a review uid once, however often it is shipped', async () => {
    expect(await store.insert(records.slice(0, 5))).toBe(0);
    expect(await all(store, {})).toHaveLength(40);
    // the duplicate brought no extra violation rows either
    const buckets = await store.histogram({}, { bucketMs: 1000 * HOUR, by: 'policy' });
    expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(
      records.reduce((n, r) => n + r.violations.length, 0),
    );
  });

  it('stores a uid that comes twice in one batch once, with one set of violations', async () => {
    const { store: fresh } = await open();
    try {
      await fresh.migrate();
      const twice = sampleRecord({ uid: 'twice' });
      const other = sampleRecord({ uid: 'other', violations: [] });
      expect(await fresh.insert([twice, other, { ...twice }])).toBe(2);
      expect((await all(fresh, {})).map((r) => r.uid)).toEqual(['other', 'twice']);
      const buckets = await fresh.histogram({}, { bucketMs: 1000 * HOUR, by: 'policy' });
      expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  it('filters by every field and time range, as the records say', async () => {
    const expectSame = async (q: AuditQuery, pred: (r: AuditRecord) => boolean) => {
      const got = (await all(store, q)).map((r) => r.uid).sort();
      const want = records
        .filter(pred)
        .map((r) => r.uid)
        .sort();
      expect(want.length).toBeGreaterThan(0);
      expect(got).toEqual(want);
    };
    await expectSame({ tenant: 'acme' }, (r) => r.tenant === 'acme');
    await expectSame({ namespace: 'globex-web' }, (r) => r.namespace === 'globex-web');
    await expectSame({ user: 'alice' }, (r) => r.user === 'alice');
    await expectSame({ action: 'warn' }, (r) => r.action === 'warn');
    await expectSame({ kind: 'Tenant' }, (r) => r.kind === 'Tenant');
    await expectSame({ policy: 'route-gateways' }, (r) =>
      r.violations.some((v) => v.policy === 'route-gateways'),
    );
    const since = new Date(T0 + 10 * HOUR);
    const until = new Date(T0 + 20 * HOUR);
    await expectSame({ tenant: 'globex', since, until }, (r) => {
      const t = Date.parse(r.time);
      return r.tenant === 'globex' && t >= since.getTime() && t < until.getTime();
    });
    // a tenant auditor's view: only these namespaces, never a cluster-scoped record
    await expectSame({ onlyNamespaces: ['acme-web'] }, (r) => r.namespace === 'acme-web');
    expect(await all(store, { onlyNamespaces: [] })).toEqual([]);
  });

  it('pages newest first (or oldest first) without gaps or repeats', async () => {
    const desc = await all(store, {});
    expect(desc.map((r) => r.uid)).toEqual(records.map((r) => r.uid).reverse());
    const asc = await all(store, { order: 'asc' });
    expect(asc.map((r) => r.uid)).toEqual(records.map((r) => r.uid));
    const first = await store.query({ limit: 10 });
    expect(first.items).toHaveLength(10);
    expect(first.continue).toBeDefined();
    expect((await store.query({ limit: 40 })).continue).toBeUndefined();
    await expect(store.query({ continue: 'bm9wZQ' })).rejects.toThrow(/not one this server issued/);
  });

  it('lists what was stored after an id (watch), in insertion order', async () => {
    const page = await store.query({ limit: 1000 });
    const ids = page.items.map((r) => r.id).sort((a, b) => a - b);
    const later = await store.query({ afterId: ids[29]!, tenant: 'acme' });
    expect(later.items.map((r) => r.uid)).toEqual(
      records
        .slice(30)
        .filter((r) => r.tenant === 'acme')
        .map((r) => r.uid),
    );
  });

  it('counts refusals per hour by policy and by tenant', async () => {
    const byPolicy = await store.histogram(
      { since: new Date(T0), until: new Date(T0 + 6 * HOUR) },
      {
        bucketMs: 3 * HOUR,
        by: 'policy',
      },
    );
    // hours 0-2: i=0 (warn), 1, 2 (deny x2 policies); hours 3-5: i=3 (warn), 4, 5
    expect(byPolicy).toEqual([
      { start: T0, key: 'route-count', count: 1 },
      { start: T0, key: 'route-gateways', count: 2 },
      { start: T0, key: 'route-hostnames', count: 2 },
      { start: T0 + 3 * HOUR, key: 'route-count', count: 1 },
      { start: T0 + 3 * HOUR, key: 'route-gateways', count: 2 },
      { start: T0 + 3 * HOUR, key: 'route-hostnames', count: 2 },
    ]);
    const byTenant = await store.histogram(
      { until: new Date(T0 + 4 * HOUR) },
      { bucketMs: 2 * HOUR, by: 'tenant' },
    );
    expect(byTenant).toEqual([
      { start: T0, key: 'acme', count: 1 },
      { start: T0, key: 'globex', count: 1 },
      { start: T0 + 2 * HOUR, key: 'acme', count: 1 },
      { start: T0 + 2 * HOUR, key: 'globex', count: 1 },
    ]);
  });

  it('prunes by age and by count, with their violations, and counts what it pruned', async () => {
    const { store: s } = await open();
    try {
      await s.migrate();
      await s.insert(records);
      const before = await prunedMetric(backend);
      // older than 10 h before T0+39h: i < 29 go
      expect(await s.prune({ maxAgeMs: 10 * HOUR }, new Date(T0 + 39 * HOUR))).toBe(29);
      expect((await all(s, {})).map((r) => r.uid)).toEqual(
        records
          .slice(29)
          .map((r) => r.uid)
          .reverse(),
      );
      // keep the newest 4
      expect(await s.prune({ maxRecords: 4 })).toBe(7);
      expect((await all(s, { order: 'asc' })).map((r) => r.uid)).toEqual(records.slice(36).map((r) => r.uid));
      const violations = await s.histogram({}, { bucketMs: 1000 * HOUR, by: 'policy' });
      expect(violations.reduce((n, b) => n + b.count, 0)).toBe(
        records.slice(36).reduce((n, r) => n + r.violations.length, 0),
      );
      expect(await s.prune({ maxAgeMs: 1000 * HOUR, maxRecords: 4 }, new Date(T0 + 39 * HOUR))).toBe(0);
      expect((await prunedMetric(backend)) - before).toBe(36);
    } finally {
      await s.close();
    }
  });
});

describe('audit store: postgres commit durability', () => {
  // the loader deletes a spool segment once the insert returned: with synchronous_commit=off that would be
  // before the rows are on disk, so the store's sessions raise 'off' and keep anything stronger
  it.each([
    ['off', 'local'],
    ['on', 'on'],
    ['remote_apply', 'remote_apply'],
  ])(
    'a database configured with synchronous_commit=%s: our sessions commit with %s',
    async (configured, used) => {
      const dsn = await env.pg.createDatabase(`durability_${configured}`);
      const admin = new pg.Client({ connectionString: dsn });
      await admin.connect();
      await admin.query(`ALTER DATABASE durability_${configured} SET synchronous_commit = ${configured}`);
      await admin.end();
      const s = new PostgresAuditStore({ dsn, maxConnections: 2 });
      try {
        // two connections, so that the second one is made while the first is busy: each is raised
        const both = await Promise.all([s.commitDurability(), s.commitDurability(), s.migrate()]);
        expect(both.slice(0, 2)).toEqual([
          { setting: used, configured },
          { setting: used, configured },
        ]);
        expect(await s.insert([sampleRecord({ uid: 'durable-1' })])).toBe(1);
      } finally {
        await s.close();
      }
    },
  );
});

async function prunedMetric(backend: string): Promise<number> {
  const m = await registry.getSingleMetric('tenantgate_audit_records_pruned_total')!.get();
  return m.values.find((v) => v.labels.backend === backend)?.value ?? 0;
}
