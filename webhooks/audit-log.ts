// The durable audit trail: one JSON line per admission decision that denied, warned or was dry-run (and
// per namespace hand-over the webhook admitted, action `allow`: see adoption-gate.ts),
// written through winston with size-based rotation (audit-file-transport.ts: the newest file keeps the
// configured name; rotated ones are NAME1.EXT, NAME2.EXT, ...). `tenantgate audit` reads the whole set.
import { createReadStream, readdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import winston from 'winston';
import type { AdmissionRequest, Decision, EnforcementAction } from '../policies/types.ts';
import { RotatingFileTransport } from './audit-file-transport.ts';
import { strongestAction } from './review.ts';

/** A policy's enforcement action, or `allow` for a recorded permission (a namespace hand-over). */
export type AuditAction = EnforcementAction | 'allow';

export interface AuditRecord {
  time: string;
  uid: string;
  /** the request was a dry run (kubectl --dry-run=server): nothing was stored either way */
  dryRun: boolean;
  user: string;
  groups: string[];
  operation: string;
  kind: string;
  apiVersion: string;
  namespace?: string;
  name: string;
  tenant?: string;
  /** the strongest action among the violations */
  action: AuditAction;
  allowed: boolean;
  violations: { policy: string; action: AuditAction; message: string; bundle: string }[];
  /** the object under review (for DELETE: the old one), Secret data redacted */
  object?: unknown;
}

export interface AuditLogOptions {
  path: string;
  /** rotate when the file reaches this size; default 50 MiB */
  maxSizeBytes?: number;
  /** rotated files to keep; default 10 */
  maxFiles?: number;
}

export interface AuditSink {
  /** a Promise: the webhook answers once it resolves (the record is durable) */
  record(record: AuditRecord): void | Promise<void>;
}

export const REDACTED = '<redacted>';

export function auditRecord(
  request: AdmissionRequest,
  decisions: Decision[],
  tenant: string | undefined,
  now = new Date(),
): AuditRecord {
  const object = (request.operation === 'DELETE' ? request.oldObject : request.object) ?? undefined;
  const meta = (object as { metadata?: { name?: string; generateName?: string } } | undefined)?.metadata;
  return {
    time: now.toISOString(),
    uid: request.uid,
    dryRun: request.dryRun === true,
    user: request.userInfo.username ?? '',
    groups: request.userInfo.groups ?? [],
    operation: request.operation,
    kind: request.kind.kind,
    apiVersion: request.kind.group ? `${request.kind.group}/${request.kind.version}` : request.kind.version,
    ...(request.namespace ? { namespace: request.namespace } : {}),
    name: request.name || meta?.name || meta?.generateName || '',
    ...(tenant ? { tenant } : {}),
    action: strongestAction(decisions),
    allowed: !decisions.some((d) => d.action === 'deny'),
    violations: decisions.map(({ policy, action, message, bundle }) => ({ policy, action, message, bundle })),
    object: redact(request.kind.kind, object),
  };
}

/** A copy fit for the audit log: no Secret values, no managedFields. Shallow: only what changes is copied. */
export function redact(kind: string, object: unknown): unknown {
  if (typeof object !== 'object' || object === null) return object;
  const copy: Record<string, unknown> = { ...(object as Record<string, unknown>) };
  const meta = copy.metadata;
  if (meta && typeof meta === 'object') {
    const { managedFields: _managed, ...rest } = meta as Record<string, unknown>;
    if (kind === 'Secret' && rest.annotations && typeof rest.annotations === 'object') {
      // kubectl apply keeps the whole Secret, values included, in this annotation
      const { 'kubectl.kubernetes.io/last-applied-configuration': _lastApplied, ...annotations } =
        rest.annotations as Record<string, string>;
      rest.annotations = annotations;
    }
    copy.metadata = rest;
  }
  if (kind === 'Secret') {
    for (const field of ['data', 'stringData']) {
      const values = copy[field];
      if (values && typeof values === 'object') {
        copy[field] = Object.fromEntries(Object.keys(values).map((k) => [k, REDACTED]));
      }
    }
  }
  return copy;
}

export class AuditLog implements AuditSink {
  readonly path: string;
  readonly #logger: winston.Logger;

  constructor(options: AuditLogOptions) {
    this.path = options.path;
    this.#logger = winston.createLogger({
      level: 'info',
      // the line is the record itself, nothing added
      format: winston.format.printf((info) => info.line as string),
      transports: [
        new RotatingFileTransport({
          filename: options.path,
          maxSizeBytes: options.maxSizeBytes ?? 50 * 1024 * 1024,
          maxFiles: options.maxFiles ?? 10,
        }),
      ],
    });
  }

  /** `json`: the record already serialised (the store's spool has it), so it is not serialised twice */
  record(record: AuditRecord, json = JSON.stringify(record)): void {
    this.#logger.info('admission', { line: json });
  }

  /** Closes the file (records are written synchronously: nothing is pending). */
  async close(): Promise<void> {
    this.#logger.close();
  }
}

export interface AuditFilter {
  tenant?: string;
  user?: string;
  policy?: string;
  /** records at or after this time */
  since?: Date;
}

/** The log file and its rotated siblings, oldest first. */
export function auditFiles(path: string): string[] {
  const dir = dirname(path);
  const ext = extname(path);
  const base = basename(path, ext);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const pattern = new RegExp(`^${escapeRegExp(base)}(\\d*)${escapeRegExp(ext)}$`);
  return names
    .map((n) => ({ n, m: pattern.exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .sort((a, b) => Number(b.m[1] || 0) - Number(a.m[1] || 0)) // tailable: higher number = older
    .map((x) => join(dir, x.n));
}

/** Every record of the log set that matches, oldest first. Lines that are not records are skipped. */
export async function readAuditLog(path: string, filter: AuditFilter = {}): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for (const file of auditFiles(path)) {
    const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
    for await (const line of lines) {
      const record = parseLine(line);
      if (record && matches(record, filter)) out.push(record);
    }
  }
  return out.sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
}

function parseLine(line: string): AuditRecord | undefined {
  if (!line.trim()) return undefined;
  try {
    const v = JSON.parse(line) as AuditRecord;
    return typeof v.time === 'string' && Array.isArray(v.violations) ? v : undefined;
  } catch {
    return undefined; // a line cut short by a crash
  }
}

function matches(r: AuditRecord, f: AuditFilter): boolean {
  if (f.tenant !== undefined && r.tenant !== f.tenant) return false;
  if (f.user !== undefined && r.user !== f.user) return false;
  if (f.policy !== undefined && !r.violations.some((v) => v.policy === f.policy)) return false;
  if (f.since && new Date(r.time) < f.since) return false;
  return true;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export const AUDIT_LOG_ENV = 'TENANTGATE_AUDIT_LOG';
/** where `tenantgate local` keeps it (under its state directory) */
export const LOCAL_AUDIT_LOG = '.tenantgate/local/audit/admission.jsonl';
export const DEFAULT_AUDIT_LOG = '.tenantgate/audit/admission.jsonl';
/** in a Pod (read-only root file system): the volume config/manager mounts there */
export const IN_CLUSTER_AUDIT_LOG = '/var/log/tenantgate/admission.jsonl';

/** For readers: $TENANTGATE_AUDIT_LOG, else `tenantgate local`'s log if there is one, else the default. */
export function defaultAuditLogPath(cwd = process.cwd()): string {
  const fromEnv = process.env[AUDIT_LOG_ENV];
  if (fromEnv) return fromEnv;
  const local = join(cwd, LOCAL_AUDIT_LOG);
  return auditFiles(local).length ? local : join(cwd, DEFAULT_AUDIT_LOG);
}
