// The webhook's audit trail as one AuditSink: every record is serialised once, appended durably to the
// local spool before the answer leaves (spool.ts: on disk with synchronous=FULL), loaded into the store
// (SQLite or PostgreSQL) in batches after the answer, optionally written to the JSON-lines file too, and
// counted in tenantgate_audit_refusals_total. Retention prunes the store in the background.
//
// Settings not passed as options come from the environment:
//   TENANTGATE_AUDIT_STORE        sqlite | postgres | off (default: postgres when a DSN is set, else sqlite)
//   TENANTGATE_AUDIT_DSN          postgres://… (from a Secret; never logged)
//   TENANTGATE_AUDIT_DSN_FILE     or a file holding it (a mounted Secret key)
//   TENANTGATE_AUDIT_DB           the SQLite file
//   TENANTGATE_AUDIT_SPOOL        the spool directory (default: beside the SQLite file, or spool/ under
//                                 the state directory for PostgreSQL)
//   TENANTGATE_AUDIT_MAX_AGE      retention by age: 90d (default), 12h, … ; 0 for none
//   TENANTGATE_AUDIT_MAX_RECORDS  retention by count (default 5000000); 0 for none
//   TENANTGATE_AUDIT_SYNC         FULL (default: each spool write is on disk before the answer) or
//                                 NORMAL (written to the OS before the answer: survives a process crash,
//                                 not a power loss)
//   TENANTGATE_AUDIT_LOAD_INTERVAL_MS  how often the loader stores what was spooled, in ms (default 200;
//                                 at once when a batch's worth is waiting): longer carries more records
//                                 per SQLite transaction and commit (PostgreSQL: ~10 per statement
//                                 regardless), and leaves them longer before a watch sees them
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { defineError } from '../../lib/errors.ts';
import { componentLogger, type Logger } from '../../lib/logger.ts';
import { AuditLog, type AuditRecord, type AuditSink } from '../audit-log.ts';
import { auditRecordsPrunedTotal, auditRefusalsTotal } from './metrics.ts';
import { PostgresAuditStore } from './postgres-store.ts';
import { AuditSpool } from './spool.ts';
import type { LoaderStoreConfig } from './spool-loader-worker.ts';
import { SqliteAuditStore } from './sqlite-store.ts';
import type { AuditStore, Retention } from './store.ts';

export const AuditConfigError = defineError('TG_AUDIT_CONFIG', 'audit store: %s');

export type AuditStoreConfig =
  /** spoolPath: the spool directory; default `<path>.spool` beside the database */
  | {
      backend: 'sqlite';
      path: string;
      spoolPath?: string;
      synchronous?: 'FULL' | 'NORMAL';
      loadIntervalMs?: number;
    }
  | {
      backend: 'postgres';
      dsn: string;
      spoolPath: string;
      synchronous?: 'FULL' | 'NORMAL';
      loadIntervalMs?: number;
    }
  | { backend: 'off' };

export interface AuditTrailOptions {
  store: AuditStoreConfig;
  /** also write the JSON-lines file here (what `tenantgate audit --file` reads) */
  filePath?: string;
  fileMaxSizeBytes?: number;
  fileMaxFiles?: number;
  retention?: Retention;
  /** how often to prune; default 10 min (the first run is a minute after start) */
  pruneIntervalMs?: number;
  /** default $POD_NAME or the host name */
  replica?: string;
  logger?: Logger;
}

export interface AuditTrail extends AuditSink {
  /** what the query API reads; undefined when the store is off */
  readonly store: AuditStore | undefined;
  readonly spool: AuditSpool | undefined;
  /** one pruning round now (the background one runs on its own) */
  prune(): Promise<number>;
  /** ships what is spooled (up to drainMs), then closes everything */
  close(drainMs?: number): Promise<void>;
}

export const DEFAULT_RETENTION: Required<Retention> = { maxAgeMs: 90 * 86_400_000, maxRecords: 5_000_000 };

export async function openAuditTrail(options: AuditTrailOptions): Promise<AuditTrail> {
  const log = options.logger ?? componentLogger('audit');
  const replica = options.replica ?? process.env.POD_NAME ?? hostname();
  const retention = options.retention ?? DEFAULT_RETENTION;
  let store: AuditStore | undefined;
  let spool: AuditSpool | undefined;
  const cfg = options.store;
  // where records are stored: the query API reads through `store`; the loader thread writes through its own
  const target: LoaderStoreConfig | undefined =
    cfg.backend === 'sqlite'
      ? { backend: 'sqlite', path: cfg.path, replica }
      : cfg.backend === 'postgres'
        ? { backend: 'postgres', dsn: cfg.dsn, replica }
        : undefined;
  if (target?.backend === 'sqlite') store = new SqliteAuditStore(target);
  else if (target?.backend === 'postgres') store = new PostgresAuditStore(target);
  try {
    const version = await store?.migrate();
    if (store instanceof PostgresAuditStore && (await store.commitDurability()).configured === 'off')
      log.warn(
        "the audit database's synchronous_commit is off; the audit store's sessions raise it to 'local', " +
          'so that a record is on disk before its spool segment is deleted',
      );
    if (target && cfg.backend !== 'off')
      spool = new AuditSpool({
        dir: cfg.backend === 'sqlite' ? (cfg.spoolPath ?? `${cfg.path}.spool`) : cfg.spoolPath,
        store: target,
        logger: log,
        ...(cfg.synchronous ? { synchronous: cfg.synchronous } : {}),
        ...(cfg.loadIntervalMs !== undefined ? { loadIntervalMs: cfg.loadIntervalMs } : {}),
      });
    const file = options.filePath
      ? new AuditLog({
          path: options.filePath,
          maxSizeBytes: options.fileMaxSizeBytes,
          maxFiles: options.fileMaxFiles,
        })
      : undefined;
    log.info('audit trail open', {
      backend: cfg.backend,
      ...(cfg.backend === 'sqlite' ? { path: cfg.path } : {}),
      ...(spool ? { spool: spool.dir } : {}),
      schemaVersion: version,
      file: options.filePath,
      retention,
    });

    const prune = async () => {
      if (cfg.backend !== 'sqlite' || !spool) return store ? store.prune(retention) : 0;
      // SQLite: on the loader's thread, which owns the write connection (a second writer would wait)
      const n = await spool.prune(retention);
      if (n) auditRecordsPrunedTotal.inc({ backend: 'sqlite' }, n);
      return n;
    };
    const runPrune = () =>
      void prune().then(
        (n) => n && log.info('audit records pruned', { records: n }),
        (err: unknown) => log.warn('pruning the audit store failed; retried next round', { err }),
      );
    const first = setTimeout(runPrune, Math.min(60_000, options.pruneIntervalMs ?? 600_000));
    const every = setInterval(runPrune, options.pruneIntervalMs ?? 600_000);
    first.unref();
    every.unref();

    return {
      store,
      spool,
      prune,
      record(record: AuditRecord) {
        const json = JSON.stringify(record); // once: the spool, the loader and the file all take this
        file?.record(record, json);
        for (const v of record.violations)
          auditRefusalsTotal.inc({ tenant: record.tenant ?? '', policy: v.policy, action: v.action });
        // the webhook answers once this resolves; a failure fails the review (500): nothing is
        // answered unrecorded
        return spool?.append(json);
      },
      async close(drainMs = 5000) {
        clearTimeout(first);
        clearInterval(every);
        if (spool) {
          const left = await spool.drain(drainMs);
          if (left) log.warn('audit records left in the spool; the next start ships them', { spooled: left });
          await spool.close();
        }
        await file?.close();
        await store?.close();
      },
    };
  } catch (err) {
    await store?.close().catch(() => {});
    throw err;
  }
}

/** The store settings from options and the environment. */
export function auditStoreConfigFromEnv(
  defaults: { dir: string },
  env: NodeJS.ProcessEnv = process.env,
): AuditStoreConfig {
  const dsnFile = env.TENANTGATE_AUDIT_DSN_FILE;
  let dsn = env.TENANTGATE_AUDIT_DSN;
  if (!dsn && dsnFile) {
    try {
      dsn = readFileSync(dsnFile, 'utf8').trim();
    } catch (err) {
      throw new AuditConfigError(
        [
          `TENANTGATE_AUDIT_DSN_FILE '${dsnFile}' cannot be read (${(err as Error).message}); mount the Secret there`,
        ],
        { cause: err },
      );
    }
  }
  const backend = env.TENANTGATE_AUDIT_STORE ?? (dsn ? 'postgres' : 'sqlite');
  const sync = env.TENANTGATE_AUDIT_SYNC ?? 'FULL';
  if (sync !== 'FULL' && sync !== 'NORMAL')
    throw new AuditConfigError([`TENANTGATE_AUDIT_SYNC is '${sync}'; use FULL or NORMAL`]);
  const interval = env.TENANTGATE_AUDIT_LOAD_INTERVAL_MS;
  if (interval !== undefined && !(/^\d{1,5}$/.test(interval) && Number(interval) <= 60_000))
    throw new AuditConfigError([
      `TENANTGATE_AUDIT_LOAD_INTERVAL_MS is '${interval}'; use a whole number of milliseconds from 0 to 60000`,
    ]);
  const loading = interval !== undefined ? { loadIntervalMs: Number(interval) } : {};
  switch (backend) {
    case 'off':
      return { backend: 'off' };
    case 'sqlite': {
      return {
        backend: 'sqlite',
        path: env.TENANTGATE_AUDIT_DB ?? join(defaults.dir, 'audit.db'),
        ...(env.TENANTGATE_AUDIT_SPOOL ? { spoolPath: env.TENANTGATE_AUDIT_SPOOL } : {}),
        synchronous: sync,
        ...loading,
      };
    }
    case 'postgres':
      if (!dsn)
        throw new AuditConfigError([
          'TENANTGATE_AUDIT_STORE is postgres but TENANTGATE_AUDIT_DSN (or TENANTGATE_AUDIT_DSN_FILE) is empty; set it from a Secret (postgres://user:password@host:5432/db)',
        ]);
      return {
        backend: 'postgres',
        dsn,
        spoolPath: env.TENANTGATE_AUDIT_SPOOL ?? join(defaults.dir, 'spool'),
        synchronous: sync,
        ...loading,
      };
    default:
      throw new AuditConfigError([`TENANTGATE_AUDIT_STORE is '${backend}'; use sqlite, postgres or off`]);
  }
}

/** Retention from TENANTGATE_AUDIT_MAX_AGE (90d, 12h, 0 = none) and TENANTGATE_AUDIT_MAX_RECORDS. */
export function retentionFromEnv(env: NodeJS.ProcessEnv = process.env): Retention {
  const out: Retention = {};
  const age = env.TENANTGATE_AUDIT_MAX_AGE ?? '90d';
  const m = /^(\d+)(s|m|h|d)?$/.exec(age.trim());
  if (!m)
    throw new AuditConfigError([`TENANTGATE_AUDIT_MAX_AGE is '${age}'; use a duration such as 90d or 12h`]);
  const ms = Number(m[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[(m[2] ?? 'd') as 's' | 'm' | 'h' | 'd'];
  if (ms > 0) out.maxAgeMs = ms;
  const count = env.TENANTGATE_AUDIT_MAX_RECORDS ?? String(DEFAULT_RETENTION.maxRecords);
  if (!/^\d+$/.test(count))
    throw new AuditConfigError([
      `TENANTGATE_AUDIT_MAX_RECORDS is '${count}'; use a whole number (0: no limit)`,
    ]);
  if (Number(count) > 0) out.maxRecords = Number(count);
  return out;
}
