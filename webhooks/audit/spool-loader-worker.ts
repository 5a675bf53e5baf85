// The spool loader's thread (spool.ts): reads what the webhook appended to the spool segments, inserts it
// into the store (SQLite: one transaction per batch; PostgreSQL: statements of ~10 records, each its own
// transaction, so that the server never works long on one — spool.ts, POSTGRES_STATEMENT_BYTES) and
// deletes a segment once everything in it is stored. It runs at a lower CPU priority than the
// webhook's event loop: on a busy node, loading waits a little rather than the answers to admission
// reviews (a load that falls behind shows in tenantgate_audit_spool_depth).
//
// Lines are `<crc32 hex>\t<record JSON>\n`, then zeros (the preallocated rest); a line whose checksum does
// not match (a write torn by a crash before it was acknowledged) is skipped. Loading the same segment twice (a crash between the store's
// commit and the segment's deletion) stores nothing twice: the review uid is the idempotency key.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readlinkSync, readSync, unlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { Backoff } from '../../lib/async.ts';
import type { AuditRecord } from '../audit-log.ts';
import { PostgresAuditStore } from './postgres-store.ts';
import { SqliteAuditStore } from './sqlite-store.ts';
import type { AuditStore, Retention } from './store.ts';

export type LoaderStoreConfig =
  | { backend: 'sqlite'; path: string; replica?: string }
  | { backend: 'postgres'; dsn: string; replica?: string };

export interface LoaderConfig {
  store: LoaderStoreConfig;
  /** bytes read and inserted per statement (one transaction), at least one whole record */
  statementBytes: number;
  /** first retry delay after a failed load, doubling to 30 s */
  retryMs: number;
  /**
   * this thread's CPU priority: 'idle' (SCHED_IDLE: it runs only when no other thread wants the CPU, and
   * yields the moment one does; falls back to nice 19 where it cannot be set) or a niceness (0: as the
   * event loop)
   */
  priority: 'idle' | number;
}

export type LoaderRequest =
  /** segment `file` is durable up to byte `end`; `sealed`: nothing more will be appended to it */
  | { op: 'durable'; file: string; end: number; sealed: boolean }
  /** retry a failed load now rather than after its backoff */
  | { op: 'retry' }
  | { op: 'prune'; id: number; retention: Retention; now: number }
  | { op: 'stop' };

export type LoaderReply =
  /** `lines` consumed (stored, already stored, or skipped as torn), `skipped` of them torn */
  | { op: 'loaded'; lines: number; skipped: number; seconds: number }
  | { op: 'failed'; error: string; retryInMs: number }
  | { op: 'pruned'; id: number; ok: true; deleted: number }
  | { op: 'pruned'; id: number; ok: false; error: string }
  | { op: 'stopped' };

const config = workerData as LoaderConfig;
const port = parentPort!;

lowerPriority(config.priority);

// synchronous=NORMAL: a batch's commit is not fsync'd (the spool still holds it); the WAL is, by the
// checkpoint before a segment is deleted — one flush per segment rather than one per batch, each of
// which would queue on the disk ahead of the spool writes that answers wait for
const sqlite =
  config.store.backend === 'sqlite'
    ? new SqliteAuditStore({ path: config.store.path, replica: config.store.replica, synchronous: 'NORMAL' })
    : undefined;
sqlite?.migrateSync(); // the main thread migrated already: a no-op that prepares the connection
const store: AuditStore =
  sqlite ??
  new PostgresAuditStore({
    dsn: (config.store as { dsn: string }).dsn,
    replica: config.store.replica,
    maxConnections: 1,
  });

interface Segment {
  file: string;
  /** read (and stored) up to here */
  position: number;
  /** durable up to here */
  end: number;
  sealed: boolean;
}

/** by file name: names sort in append order */
const segments = new Map<string, Segment>();
let running: Promise<void> | undefined;
let again = false;
let retryTimer: NodeJS.Timeout | undefined;
// not jittered: one loader per replica, retrying its own store; nothing to spread apart
const retries = new Backoff({ initialMs: config.retryMs, maxMs: 30_000, jitter: 0 });
let stopping = false;

port.on('message', (req: LoaderRequest) => {
  switch (req.op) {
    case 'durable': {
      const s = segments.get(req.file) ?? { file: req.file, position: 0, end: 0, sealed: false };
      s.end = Math.max(s.end, req.end);
      s.sealed ||= req.sealed;
      segments.set(req.file, s);
      kick();
      return;
    }
    case 'retry':
      if (retryTimer) {
        clearTimeout(retryTimer);
        retryTimer = undefined;
        kick();
      }
      return;
    case 'prune':
      void prune(req);
      return;
    case 'stop':
      stopping = true;
      if (retryTimer) clearTimeout(retryTimer);
      void (running ?? Promise.resolve()).then(async () => {
        await loadAll(); // stopping: deletes what the last batch finished
        await store.close();
        reply({ op: 'stopped' });
      });
      return;
  }
});

function kick(): void {
  if (stopping || retryTimer) return;
  if (running) {
    again = true;
    return;
  }
  running = loadAll().finally(() => {
    running = undefined;
    if (again) {
      again = false;
      kick();
    }
  });
}

/** Loads what is durable, segment by segment; when stopping, only deletes segments already loaded. */
async function loadAll(): Promise<void> {
  for (;;) {
    const segment = [...segments.values()].sort((a, b) => (a.file < b.file ? -1 : 1))[0];
    if (!segment) return;
    if (segment.position >= segment.end) {
      if (!segment.sealed) return; // wait for more
      sqlite?.checkpointSync(); // everything in it is stored, and now on disk
      unlinkQuietly(segment.file);
      segments.delete(segment.file);
      continue;
    }
    if (stopping) return; // the rest stays for the next start
    const started = performance.now();
    let batch: ReturnType<typeof readBatch>;
    try {
      // a segment that cannot be read (or a store that refuses) is retried, never given up on
      batch = readBatch(segment);
      if (batch.records.length) await store.insert(batch.records, batch.json);
    } catch (err) {
      const retryInMs = retries.next();
      reply({ op: 'failed', error: (err as Error).message, retryInMs });
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        kick();
      }, retryInMs);
      return;
    }
    retries.reset();
    segment.position += batch.bytes;
    reply({
      op: 'loaded',
      lines: batch.lines,
      skipped: batch.skipped,
      seconds: (performance.now() - started) / 1000,
    });
    // short statements and a pause between them: neither this thread nor PostgreSQL's server process
    // (which works on a statement at normal priority) holds a core for long, so an answer waking
    // meanwhile waits for a short statement, not a long batch; and, this thread being SCHED_IDLE, the
    // next statement is sent only when a core is idle
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

/** The next whole lines of a segment, up to statementBytes (more when one record is larger). */
function readBatch(segment: Segment): {
  records: AuditRecord[];
  json: string[];
  lines: number;
  skipped: number;
  bytes: number;
} {
  const fd = openSync(segment.file, 'r');
  let buf: Buffer;
  let length = Math.min(config.statementBytes, segment.end - segment.position);
  try {
    for (;;) {
      buf = Buffer.allocUnsafe(length);
      const n = readSync(fd, buf, 0, length, segment.position);
      buf = buf.subarray(0, n);
      if (buf.lastIndexOf(0x0a) >= 0 || buf.indexOf(0) >= 0 || segment.position + n >= segment.end) break;
      length = Math.min(length * 2, segment.end - segment.position); // one record larger than a batch
    }
  } finally {
    closeSync(fd);
  }
  const nul = buf.indexOf(0);
  if (nul >= 0) {
    // the preallocated rest of a segment a previous run left: its data ends here
    buf = buf.subarray(0, nul);
    segment.end = segment.position + nul;
  }
  const whole = buf.lastIndexOf(0x0a) + 1; // bytes of whole lines
  // bytes after the last newline can only be a write torn by a crash (never acknowledged): a live
  // segment is announced durable at line ends only
  const bytes = whole === 0 || segment.position + buf.length >= segment.end ? buf.length : whole;
  const records: AuditRecord[] = [];
  const json: string[] = [];
  let lines = 0;
  let skipped = 0;
  for (let start = 0; start < whole;) {
    const nl = buf.indexOf(0x0a, start);
    const parsed = parseLine(buf.subarray(start, nl));
    start = nl + 1;
    lines++;
    if (!parsed) {
      skipped++;
      continue;
    }
    records.push(parsed.record);
    json.push(parsed.json);
  }
  return { records, json, lines, skipped, bytes };
}

function parseLine(line: Buffer): { record: AuditRecord; json: string } | undefined {
  const tab = line.indexOf(0x09);
  if (tab !== 8) return undefined;
  const body = line.subarray(9);
  if (crc32(body) !== Number.parseInt(line.subarray(0, 8).toString('latin1'), 16)) return undefined;
  const json = body.toString('utf8');
  try {
    return { record: JSON.parse(json) as AuditRecord, json };
  } catch {
    return undefined;
  }
}

async function prune(req: Extract<LoaderRequest, { op: 'prune' }>): Promise<void> {
  try {
    reply({
      op: 'pruned',
      id: req.id,
      ok: true,
      deleted: await store.prune(req.retention, new Date(req.now)),
    });
  } catch (err) {
    reply({ op: 'pruned', id: req.id, ok: false, error: (err as Error).message });
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // gone already: nothing to load twice
  }
}

/**
 * This thread only (Linux: a thread is a task with its own id, niceness and scheduling policy). A nice
 * thread still runs out its time slice (ms) once it has a core, delaying an answer that wakes meanwhile;
 * a SCHED_IDLE one is preempted at once. Node cannot set the policy itself: chrt (util-linux) does, where
 * it is installed.
 */
function lowerPriority(priority: 'idle' | number): void {
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').at(-1));
  } catch {
    return; // not Linux: loading runs at the event loop's priority
  }
  if (priority === 'idle') {
    try {
      execFileSync('chrt', ['--idle', '--pid', '0', String(tid)], { stdio: 'ignore', timeout: 5000 });
      return;
    } catch {
      priority = 19; // no chrt (a minimal image): the lowest niceness comes closest
    }
  }
  if (priority <= 0) return;
  try {
    setPriority(tid, priority);
  } catch {
    // not allowed: loading runs at the event loop's priority
  }
}

function reply(r: LoaderReply): void {
  port.postMessage(r);
}
