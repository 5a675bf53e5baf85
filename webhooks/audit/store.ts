// The durable audit store: the interface both backends implement (sqlite-store.ts: one file, embedded;
// postgres-store.ts: shared by every replica) and the query shapes the query API and the CLI speak.
// Records are idempotent by the AdmissionReview uid: storing the same review twice keeps one row.
import type { EnforcementAction } from '../../policies/types.ts';
import type { AuditRecord } from '../audit-log.ts';
import { defineError } from '../../lib/errors.ts';

export type AuditBackend = 'sqlite' | 'postgres';

/** A record as stored: `id` grows with insertion order (a later-shipped record gets a later id). */
export type StoredAuditRecord = AuditRecord & { id: number };

export interface AuditQuery {
  tenant?: string;
  namespace?: string;
  user?: string;
  policy?: string;
  action?: EnforcementAction;
  kind?: string;
  /** records at or after this time */
  since?: Date;
  /** records before this time */
  until?: Date;
  /**
   * Authorisation: when set, only records in these namespaces (never cluster-scoped ones). Undefined means
   * every record (the caller may read everything).
   */
  onlyNamespaces?: string[];
  /** page size; default 100, at most MAX_PAGE */
  limit?: number;
  /** the `continue` token of the previous page */
  continue?: string;
  /** newest first (default) or oldest first */
  order?: 'desc' | 'asc';
  /** watch: only records stored after this id, in id order (then `order`/`continue` are ignored) */
  afterId?: number;
  /** with afterId: only records up to this id (a watch's poll reads up to the newest id it saw) */
  throughId?: number;
}

export interface AuditPage {
  items: StoredAuditRecord[];
  /** pass as `continue` for the next page; absent on the last */
  continue?: string;
}

export interface AuditBucket {
  /** the bucket's start, ms since the epoch */
  start: number;
  /** the policy or tenant ('' for records without a tenant) */
  key: string;
  count: number;
}

export interface Retention {
  /** delete records older than this; undefined: no age limit */
  maxAgeMs?: number;
  /** keep at most this many records (the newest); undefined: no count limit */
  maxRecords?: number;
}

export interface AuditStore {
  readonly backend: AuditBackend;
  /** applies pending schema migrations; resolves to the schema version now in force */
  migrate(): Promise<number>;
  /**
   * stores records, skipping uids already stored; resolves to how many were new. `json[i]`, when given,
   * is records[i] already serialised (the spool's line): stored as is, not serialised again.
   */
  insert(records: AuditRecord[], json?: string[]): Promise<number>;
  query(query: AuditQuery): Promise<AuditPage>;
  /**
   * The highest record id stored (0 when none). Ids grow in commit order (SQLite: one writer; PostgreSQL:
   * inserts take a lock until they commit), so every record up to it is visible: where a watch resumes.
   */
  latestId(): Promise<number>;
  /** counts per time bucket and policy (one per violation) or tenant (one per record) */
  histogram(
    query: AuditQuery,
    options: { bucketMs: number; by: 'policy' | 'tenant' },
  ): Promise<AuditBucket[]>;
  /** deletes what retention no longer keeps; resolves to the number of records deleted */
  prune(retention: Retention, now?: Date): Promise<number>;
  close(): Promise<void>;
}

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

export const LATEST_ID_SQL = 'SELECT COALESCE(MAX(id), 0) AS id FROM audit_records';

export const AuditQueryError = defineError('TG_AUDIT_QUERY', 'audit query: %s');

/** A page cursor: the last row's (time, id) in the page's order. Opaque to clients. */
export function encodeContinue(timeMs: number, id: number): string {
  return Buffer.from(`${timeMs}:${id}`).toString('base64url');
}

export function decodeContinue(token: string): { timeMs: number; id: number } {
  const m = /^(-?\d+):(\d+)$/.exec(Buffer.from(token, 'base64url').toString());
  if (!m)
    throw new AuditQueryError([
      `'continue' token '${token}' is not one this server issued; start from the first page`,
    ]);
  return { timeMs: Number(m[1]), id: Number(m[2]) };
}

/**
 * The WHERE clause (with `?` placeholders) and its parameters for a query's filters, shared by both
 * backends. `r` is audit_records; the policy filter is an EXISTS on audit_violations.
 */
export function whereClause(q: AuditQuery): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const eq = (column: string, value: unknown) => {
    parts.push(`r.${column} = ?`);
    params.push(value);
  };
  if (q.tenant !== undefined) eq('tenant', q.tenant);
  if (q.namespace !== undefined) eq('namespace', q.namespace);
  if (q.user !== undefined) eq('user_name', q.user);
  if (q.action !== undefined) eq('action', q.action);
  if (q.kind !== undefined) eq('kind', q.kind);
  if (q.since) {
    parts.push('r.time_ms >= ?');
    params.push(q.since.getTime());
  }
  if (q.until) {
    parts.push('r.time_ms < ?');
    params.push(q.until.getTime());
  }
  if (q.policy !== undefined) {
    parts.push('EXISTS (SELECT 1 FROM audit_violations v WHERE v.record_id = r.id AND v.policy = ?)');
    params.push(q.policy);
  }
  if (q.onlyNamespaces) {
    if (q.onlyNamespaces.length === 0) parts.push('1 = 0');
    else {
      parts.push(`r.namespace IN (${q.onlyNamespaces.map(() => '?').join(', ')})`);
      params.push(...q.onlyNamespaces);
    }
  }
  return { sql: parts.length ? parts.join(' AND ') : '1 = 1', params };
}

/** The whole SELECT for one page, `?` placeholders; the caller fetches limit + 1 rows to know if more follow. */
export function pageQuery(q: AuditQuery): { sql: string; params: unknown[]; limit: number } {
  const limit = Math.min(Math.max(1, Math.floor(q.limit ?? DEFAULT_PAGE)), MAX_PAGE);
  const where = whereClause(q);
  const params = [...where.params];
  let sql = `SELECT r.id, r.record FROM audit_records r WHERE ${where.sql}`;
  if (q.afterId !== undefined) {
    sql += ' AND r.id > ?';
    params.push(q.afterId);
    if (q.throughId !== undefined) {
      sql += ' AND r.id <= ?';
      params.push(q.throughId);
    }
    sql += ' ORDER BY r.id ASC';
  } else {
    const desc = (q.order ?? 'desc') === 'desc';
    if (q.continue) {
      const c = decodeContinue(q.continue);
      sql += desc
        ? ' AND (r.time_ms < ? OR (r.time_ms = ? AND r.id < ?))'
        : ' AND (r.time_ms > ? OR (r.time_ms = ? AND r.id > ?))';
      params.push(c.timeMs, c.timeMs, c.id);
    }
    sql += desc ? ' ORDER BY r.time_ms DESC, r.id DESC' : ' ORDER BY r.time_ms ASC, r.id ASC';
  }
  sql += ' LIMIT ?';
  params.push(limit + 1);
  return { sql, params, limit };
}

export function histogramQuery(
  q: AuditQuery,
  options: { bucketMs: number; by: 'policy' | 'tenant' },
): { sql: string; params: unknown[] } {
  const bucketMs = Math.max(1000, Math.floor(options.bucketMs));
  const where = whereClause(q);
  const bucket = `(r.time_ms / ${bucketMs}) * ${bucketMs}`;
  const sql =
    options.by === 'policy'
      ? `SELECT ${bucket} AS start, v.policy AS key, COUNT(*) AS count FROM audit_records r
           JOIN audit_violations v ON v.record_id = r.id WHERE ${where.sql} GROUP BY 1, 2 ORDER BY 1, 2`
      : `SELECT ${bucket} AS start, COALESCE(r.tenant, '') AS key, COUNT(*) AS count FROM audit_records r
           WHERE ${where.sql} GROUP BY 1, 2 ORDER BY 1, 2`;
  return { sql, params: where.params };
}

/** Turns fetched rows (limit + 1 of them) into a page. */
export function toPage(rows: { id: number; record: AuditRecord }[], q: AuditQuery, limit: number): AuditPage {
  const items = rows.slice(0, limit).map((r) => ({ ...r.record, id: r.id }));
  const last = items.at(-1);
  return rows.length > limit && last && q.afterId === undefined
    ? { items, continue: encodeContinue(Date.parse(last.time), last.id) }
    : { items };
}

/** "15m" back from now, or an absolute time. */
export function parseTime(value: string, now: Date): Date | undefined {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(value.trim());
  if (m) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(m[1]) * unit);
  }
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t);
}
