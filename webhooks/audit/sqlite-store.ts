// The embedded audit store: one SQLite file through Node's built-in node:sqlite (no native addon to
// build). Used by `tenantgate local` and a single replica on a PersistentVolume. The spool's loader thread
// writes (spool.ts: a record is durable in the spool before its answer leaves, and stored here after);
// WAL mode lets the query API read meanwhile. `synchronous=FULL` fsyncs the WAL on every commit, NORMAL
// only on checkpoints — the loader's choice, as it deletes a spool segment only after checkpointSync().
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { AuditRecord } from '../audit-log.ts';
import { auditRecordsPrunedTotal } from './metrics.ts';
import { LATEST_SCHEMA_VERSION, MIGRATIONS_TABLE, SQLITE_MIGRATIONS } from './schema.ts';
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

export interface SqliteStoreOptions {
  /** the database file (created with its directory) */
  path: string;
  /** recorded with each row (the pod name) */
  replica?: string;
  /** default FULL */
  synchronous?: 'FULL' | 'NORMAL';
  /** tests: stop at this schema version */
  targetVersion?: number;
}

const PRUNE_BATCH = 5000;

type Param = null | number | bigint | string;

export class SqliteAuditStore implements AuditStore {
  readonly backend = 'sqlite' as const;
  readonly path: string;
  readonly #db: DatabaseSync;
  readonly #replica: string | null;
  readonly #targetVersion: number;
  #insertRecord: StatementSync | undefined;
  #insertViolation: StatementSync | undefined;

  constructor(options: SqliteStoreOptions) {
    // the series exists from the start, so a dashboard's rate() reads 0 rather than nothing
    auditRecordsPrunedTotal.inc({ backend: 'sqlite' }, 0);
    this.path = options.path;
    mkdirSync(dirname(options.path), { recursive: true });
    this.#db = new DatabaseSync(options.path);
    this.#db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${options.synchronous ?? 'FULL'};
      PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;
      PRAGMA cache_size = -65536; PRAGMA mmap_size = 268435456;`); // 64 MiB cache, 256 MiB mapped
    this.#replica = options.replica ?? null;
    this.#targetVersion = options.targetVersion ?? LATEST_SCHEMA_VERSION;
  }

  async migrate(): Promise<number> {
    return this.migrateSync();
  }

  migrateSync(): number {
    this.#db.exec(MIGRATIONS_TABLE);
    let version = this.schemaVersion();
    for (const m of SQLITE_MIGRATIONS) {
      if (m.version <= version || m.version > this.#targetVersion) continue;
      this.#transaction(() => {
        for (const s of m.statements) this.#db.exec(s);
        this.#db
          .prepare('INSERT INTO audit_schema_migrations (version, description, applied_ms) VALUES (?, ?, ?)')
          .run(m.version, m.description, Date.now());
      });
      version = m.version;
    }
    return version;
  }

  schemaVersion(): number {
    const row = this.#db.prepare('SELECT MAX(version) AS v FROM audit_schema_migrations').get() as {
      v: number | null;
    };
    return row.v ?? 0;
  }

  async insert(records: AuditRecord[], json?: string[]): Promise<number> {
    return this.insertSync(records, json);
  }

  /** Stores and commits before returning; uids already stored are skipped. */
  insertSync(records: AuditRecord[], json?: string[]): number {
    const withReplica = this.#targetVersion >= 2;
    this.#insertRecord ??= this.#db.prepare(
      `INSERT INTO audit_records (uid, time_ms, tenant, namespace, user_name, kind, operation, action, dry_run, record${withReplica ? ', replica' : ''})
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?${withReplica ? ', ?' : ''}) ON CONFLICT (uid) DO NOTHING RETURNING id`,
    );
    this.#insertViolation ??= this.#db.prepare(
      'INSERT INTO audit_violations (record_id, policy, action) VALUES (?, ?, ?)',
    );
    const insertRecord = this.#insertRecord;
    const insertViolation = this.#insertViolation;
    let inserted = 0;
    this.#transaction(() => {
      for (const [i, r] of records.entries()) {
        const params: Param[] = [
          r.uid,
          Date.parse(r.time),
          r.tenant ?? null,
          r.namespace ?? null,
          r.user,
          r.kind,
          r.operation,
          r.action,
          r.dryRun ? 1 : 0,
          json?.[i] ?? JSON.stringify(r),
        ];
        if (withReplica) params.push(this.#replica);
        const row = insertRecord.get(...params) as { id: number } | undefined;
        if (!row) continue; // stored before (a replayed spool, a retried ship)
        inserted++;
        for (const v of r.violations) insertViolation.run(row.id, v.policy, v.action);
      }
    });
    return inserted;
  }

  /**
   * Makes every commit so far durable: the WAL is fsync'd before a checkpoint (synchronous=NORMAL syncs
   * nothing at commit), whether or not readers let the checkpoint finish.
   */
  checkpointSync(): void {
    this.#db.exec('PRAGMA wal_checkpoint(PASSIVE)');
  }

  async query(query: AuditQuery): Promise<AuditPage> {
    const { sql, params, limit } = pageQuery(query);
    const rows = this.#db.prepare(sql).all(...(params as Param[])) as { id: number; record: string }[];
    return toPage(
      rows.map((r) => ({ id: r.id, record: JSON.parse(r.record) as AuditRecord })),
      query,
      limit,
    );
  }

  async latestId(): Promise<number> {
    return Number((this.#db.prepare(LATEST_ID_SQL).get() as { id: number }).id);
  }

  async histogram(
    query: AuditQuery,
    options: { bucketMs: number; by: 'policy' | 'tenant' },
  ): Promise<AuditBucket[]> {
    const { sql, params } = histogramQuery(query, options);
    return this.#db.prepare(sql).all(...(params as Param[])) as unknown as AuditBucket[];
  }

  async prune(retention: Retention, now = new Date()): Promise<number> {
    let deleted = 0;
    // in batches: each is a short write transaction, so admission writes never wait long behind one
    const batch = (where: string, param: number) => {
      for (;;) {
        const n = Number(
          this.#db
            .prepare(
              `DELETE FROM audit_records WHERE id IN (SELECT id FROM audit_records WHERE ${where} LIMIT ${PRUNE_BATCH})`,
            )
            .run(param).changes,
        );
        deleted += n;
        if (n < PRUNE_BATCH) return;
      }
    };
    if (retention.maxAgeMs !== undefined) batch('time_ms < ?', now.getTime() - retention.maxAgeMs);
    if (retention.maxRecords !== undefined) {
      const cut = this.#db
        .prepare('SELECT id FROM audit_records ORDER BY id DESC LIMIT 1 OFFSET ?')
        .get(retention.maxRecords) as { id: number } | undefined;
      if (cut) batch('id <= ?', cut.id);
    }
    if (deleted) auditRecordsPrunedTotal.inc({ backend: 'sqlite' }, deleted);
    return deleted;
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }

  #transaction(fn: () => void): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      fn();
      this.#db.exec('COMMIT');
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }
}
