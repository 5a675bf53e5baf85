// The shared audit store for several webhook replicas: PostgreSQL through `pg` (a small pool). Replicas
// ship their spooled records here (spool.ts) with the review uid as idempotency key, so a retried or
// replayed batch never stores a refusal twice. Migrations run under an advisory lock, so replicas that
// start together apply each one once; pruning takes a second advisory lock, so only one replica prunes
// at a time; inserts take a third until they commit, so ids become visible in id order (a watch's cursor).
import pg from 'pg';
import type { AuditRecord } from '../audit-log.ts';
import { auditRecordsPrunedTotal } from './metrics.ts';
import { LATEST_SCHEMA_VERSION, MIGRATIONS_TABLE, POSTGRES_MIGRATIONS } from './schema.ts';
import {
  histogramQuery,
  LATEST_ID_SQL,
  pageQuery,
  toPage,
  type AuditBucket,
  type AuditPage,
  type AuditQuery,
  type AuditStore,
  type Retention,
} from './store.ts';

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/db?sslmode=... (from a Secret; never logged) */
  dsn: string;
  replica?: string;
  /** default 4 */
  maxConnections?: number;
  /** tests: stop at this schema version */
  targetVersion?: number;
}

// arbitrary but fixed: advisory lock keys for "migrating", "pruning" and "inserting"
const MIGRATE_LOCK = 7_420_001;
const PRUNE_LOCK = 7_420_002;
const INSERT_LOCK = 7_420_003;
const PRUNE_BATCH = 5000;

// BIGINT (ids, ms times) and COUNT(*) as numbers: every value we keep fits in 2^53
const types = {
  getTypeParser: (oid: number, format?: 'text' | 'binary') =>
    oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format),
} as pg.CustomTypesConfig;

const DURABLE_COMMITS_SQL = `SELECT set_config('synchronous_commit', 'local', false)
  WHERE current_setting('synchronous_commit') = 'off'`;

export class PostgresAuditStore implements AuditStore {
  readonly backend = 'postgres' as const;
  readonly #pool: pg.Pool;
  readonly #replica: string | null;
  readonly #targetVersion: number;

  constructor(options: PostgresStoreOptions) {
    // the series exists from the start, so a dashboard's rate() reads 0 rather than nothing
    auditRecordsPrunedTotal.inc({ backend: 'postgres' }, 0);
    this.#pool = new pg.Pool({
      connectionString: options.dsn,
      max: options.maxConnections ?? 4,
      types,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: 10_000,
    });
    // an idle client losing its connection must not crash the process; the next query reconnects
    this.#pool.on('error', () => {});
    // The loader deletes a spool segment once its insert has returned, which must mean "on disk". A database
    // or role default of synchronous_commit=off would make it mean "in the server's memory" (lost if the
    // server crashes), so our sessions raise that to 'local'; a stronger setting (on, remote_write,
    // remote_apply: a DBA's choice for standbys) is kept. Queued ahead of anything the pool hands out.
    this.#pool.on('connect', (client) => void client.query(DURABLE_COMMITS_SQL).catch(() => {}));
    this.#replica = options.replica ?? null;
    this.#targetVersion = options.targetVersion ?? LATEST_SCHEMA_VERSION;
  }

  /** synchronous_commit in our sessions, and what the database/role configured (what a session starts with) */
  async commitDurability(): Promise<{ setting: string; configured: string }> {
    const res = await this.#pool.query<{ setting: string; configured: string }>(
      `SELECT setting, reset_val AS configured FROM pg_settings WHERE name = 'synchronous_commit'`,
    );
    return res.rows[0]!;
  }

  async migrate(): Promise<number> {
    return this.#transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
      await c.query(MIGRATIONS_TABLE);
      let version = await currentVersion(c);
      for (const m of POSTGRES_MIGRATIONS) {
        if (m.version <= version || m.version > this.#targetVersion) continue;
        for (const s of m.statements) await c.query(s);
        await c.query(
          'INSERT INTO audit_schema_migrations (version, description, applied_ms) VALUES ($1, $2, $3)',
          [m.version, m.description, Date.now()],
        );
        version = m.version;
      }
      return version;
    });
  }

  async schemaVersion(): Promise<number> {
    const c = await this.#pool.connect();
    try {
      await c.query(MIGRATIONS_TABLE);
      return await currentVersion(c);
    } finally {
      c.release();
    }
  }

  async insert(records: AuditRecord[], json?: string[]): Promise<number> {
    if (records.length === 0) return 0;
    const withReplica = this.#targetVersion >= 2;
    const violations = { uid: [] as string[], policy: [] as string[], action: [] as string[] };
    const seen = new Set<string>();
    for (const r of records) {
      if (seen.has(r.uid)) continue; // a uid twice in one batch is stored once, with one set of violations
      seen.add(r.uid);
      for (const v of r.violations) {
        violations.uid.push(r.uid);
        violations.policy.push(v.policy);
        violations.action.push(v.action);
      }
    }
    // One statement, so one round trip and one implicit transaction (one commit) per call (the loader
    // calls with ~10 records at a time: spool.ts, POSTGRES_STATEMENT_BYTES), prepared
    // once per connection (named): the loader's cost per batch is then a parse of the arrays and the rows.
    // The insert lock comes first (`lock` is joined into the rows' source, so no row — and no id — is
    // made before it is held) and is held until the commit: replicas insert one at a time, so ids become
    // visible in id order and a watch that has seen id N has seen every record up to N (BIGSERIAL alone
    // hands out ids at insert time, and a later id could commit first). A uid already stored inserts
    // nothing, and so none of its violations.
    const res = await this.#pool.query<{ inserted: number }>({
      name: withReplica ? 'audit-insert-v2' : 'audit-insert-v1',
      text: `WITH lock AS (SELECT pg_advisory_xact_lock(${INSERT_LOCK})),
        inserted AS (
          INSERT INTO audit_records (uid, time_ms, tenant, namespace, user_name, kind, operation, action, dry_run, record${withReplica ? ', replica' : ''})
          SELECT uid, time_ms, tenant, namespace, user_name, kind, operation, action, dry_run, record::jsonb${withReplica ? ', $14::text' : ''}
          FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
                      $8::text[], $9::boolean[], $10::text[])
            AS t (uid, time_ms, tenant, namespace, user_name, kind, operation, action, dry_run, record)
            CROSS JOIN lock
          ON CONFLICT (uid) DO NOTHING RETURNING id, uid),
        violations AS (
          INSERT INTO audit_violations (record_id, policy, action)
          SELECT inserted.id, v.policy, v.action
          FROM unnest($11::text[], $12::text[], $13::text[]) AS v (uid, policy, action)
            JOIN inserted USING (uid))
        SELECT count(*)::int AS inserted FROM inserted`,
      values: [
        records.map((r) => r.uid),
        records.map((r) => Date.parse(r.time)),
        records.map((r) => r.tenant ?? null),
        records.map((r) => r.namespace ?? null),
        records.map((r) => r.user),
        records.map((r) => r.kind),
        records.map((r) => r.operation),
        records.map((r) => r.action),
        records.map((r) => r.dryRun),
        json ?? records.map((r) => JSON.stringify(r)),
        violations.uid,
        violations.policy,
        violations.action,
        ...(withReplica ? [this.#replica] : []),
      ],
    });
    return res.rows[0]?.inserted ?? 0;
  }

  async query(query: AuditQuery): Promise<AuditPage> {
    const { sql, params, limit } = pageQuery(query);
    const res = await this.#pool.query<{ id: number; record: AuditRecord }>(numbered(sql), params);
    return toPage(res.rows, query, limit);
  }

  async latestId(): Promise<number> {
    return (await this.#pool.query<{ id: number }>(LATEST_ID_SQL)).rows[0]?.id ?? 0;
  }

  async histogram(
    query: AuditQuery,
    options: { bucketMs: number; by: 'policy' | 'tenant' },
  ): Promise<AuditBucket[]> {
    const { sql, params } = histogramQuery(query, options);
    const res = await this.#pool.query<AuditBucket>(numbered(sql), params);
    return res.rows;
  }

  async prune(retention: Retention, now = new Date()): Promise<number> {
    const c = await this.#pool.connect();
    let deleted = 0;
    try {
      const lock = await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [PRUNE_LOCK]);
      if (!lock.rows[0]?.ok) return 0; // another replica is pruning
      try {
        const batch = async (where: string, param: number) => {
          for (;;) {
            const res = await c.query(
              `DELETE FROM audit_records WHERE id IN (SELECT id FROM audit_records WHERE ${where} LIMIT ${PRUNE_BATCH})`,
              [param],
            );
            deleted += res.rowCount ?? 0;
            if ((res.rowCount ?? 0) < PRUNE_BATCH) return;
          }
        };
        if (retention.maxAgeMs !== undefined) await batch('time_ms < $1', now.getTime() - retention.maxAgeMs);
        if (retention.maxRecords !== undefined) {
          const cut = await c.query<{ id: number }>(
            'SELECT id FROM audit_records ORDER BY id DESC LIMIT 1 OFFSET $1',
            [retention.maxRecords],
          );
          if (cut.rows[0]) await batch('id <= $1', cut.rows[0].id);
        }
      } finally {
        await c.query('SELECT pg_advisory_unlock($1)', [PRUNE_LOCK]);
      }
    } finally {
      c.release();
    }
    if (deleted) auditRecordsPrunedTotal.inc({ backend: 'postgres' }, deleted);
    return deleted;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }

  async #transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.#pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }
}

async function currentVersion(c: pg.PoolClient): Promise<number> {
  const res = await c.query<{ v: number | null }>('SELECT MAX(version) AS v FROM audit_schema_migrations');
  return res.rows[0]?.v ?? 0;
}

/** `?` placeholders (store.ts's shared builder) to PostgreSQL's `$1, $2, ...`. */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
