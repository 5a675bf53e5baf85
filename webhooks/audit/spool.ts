// The local spool in front of the audit store (SQLite or PostgreSQL): what makes a record durable before
// the AdmissionReview answer leaves, at the cost of one small disk write.
//
// The webhook appends each record as one line to a segment file opened with O_DSYNC (synchronous=FULL):
// the write returns once the data is on disk. Segments are preallocated (zeros written and flushed ahead
// of use), so a write overwrites allocated blocks and flushes only its data, not the file's size. The write runs on libuv's thread pool,
// so the event loop never waits on the disk, and appends arriving while a write is in flight share the
// next one (group commit: one disk flush for all of them). The answer leaves once its write returned.
// A loader thread (spool-loader-worker.ts, at a lower CPU priority) then reads the segments and inserts
// the records into the store in batches — after the answer, off the event loop — and deletes a segment
// once the store has committed all of it. A crash anywhere in between loads the segment again on the next
// start: at-least-once delivery, made exactly-once in the store by the review uid (ON CONFLICT DO NOTHING).
//
// Why this rather than committing to SQLite before answering (the previous design): building, cloning to
// a thread and inserting a record with its indexes costs CPU that, on a node with a couple of cores,
// preempts the answers in flight; measured, that, not the fsync, was what the store added to admission's
// p99 (docs/audit.md). Here the answer's path is JSON.stringify, a checksum and one write; the store's
// work is batched and runs niced.
//
// Segments are files `<dir>/<12-digit number>.spool`, lines `<crc32 hex>\t<record JSON>\n`, then zeros
// up to the preallocated size (JSON never holds a NUL: the first one ends the data). A new process never
// writes to a segment an earlier one left (its tail may be torn): it starts the next number and loads
// the old ones first.
import {
  close,
  closeSync,
  constants,
  fsync,
  fsyncSync,
  mkdirSync,
  open,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  write,
  writeSync,
} from 'node:fs';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';
import { Backoff } from '../../lib/async.ts';
import { defineError } from '../../lib/errors.ts';
import { componentLogger, type Logger } from '../../lib/logger.ts';
import { auditSpoolDepth, auditStoreWriteSeconds } from './metrics.ts';
import type { LoaderConfig, LoaderReply, LoaderRequest, LoaderStoreConfig } from './spool-loader-worker.ts';
import type { Retention } from './store.ts';

export const AuditWriteError = defineError('TG_AUDIT_WRITE', 'audit record not stored durably in %s: %s');

export interface SpoolOptions {
  /** the spool directory; one per replica (never shared) */
  dir: string;
  /** where the loader puts the records */
  store: LoaderStoreConfig;
  /** FULL (default): each append is on disk before it resolves; NORMAL: written to the OS (survives a
   *  crash of the process, not a power loss) */
  synchronous?: 'FULL' | 'NORMAL';
  /** each segment's preallocated size: a new one is begun when a write would not fit; default 4 MiB */
  segmentBytes?: number;
  /**
   * the loader is told of new records at most this often (or at once when a batch's worth is waiting):
   * in SQLite each load is then one transaction carrying many records — one commit, one round trip for
   * all of them — rather than a few each (PostgreSQL: statements of statementBytes); default 200 ms
   */
  loadIntervalMs?: number;
  /** durable bytes that make the loader be told at once rather than at the next interval; default 128 KiB
   *  for SQLite, 256 KiB for PostgreSQL */
  batchBytes?: number;
  /**
   * bytes the loader inserts per statement (one transaction each) while it works through what it was told;
   * default: the whole batch for SQLite, 16 KiB (about ten records) for PostgreSQL — see
   * POSTGRES_STATEMENT_BYTES
   */
  statementBytes?: number;
  /** first retry delay after a failed load (doubling to 30 s); default 500 ms */
  retryMs?: number;
  /** the loader thread's CPU priority (spool-loader-worker.ts); default 'idle' */
  loaderPriority?: 'idle' | number;
  logger?: Logger;
}

const SEGMENT = /^(\d{12})\.spool$/;
export const DEFAULT_LOAD_INTERVAL_MS = 200;
/**
 * PostgreSQL's work on a batch runs in its server, not on the loader's SCHED_IDLE thread: once a statement
 * is sent, the server works on it at normal priority until it is done (about 55 µs per record: the JSONB,
 * the row, seven indexes, the WAL). One statement per 256 KiB batch was ~8–10 ms of that in one go and
 * added ~0.5 ms more than SQLite to admission's p99 on a 2-core node with the server on it (the server at
 * SCHED_IDLE did not remove it); statements of ~10 records (~0.6 ms of server CPU each) did, the loader
 * sending the next one only when it gets a core (docs/audit.md, Benchmarks). SQLite's inserts run on the
 * loader's thread itself, preempted at once: its batches need no splitting.
 */
export const POSTGRES_STATEMENT_BYTES = 16 * 1024;

interface Waiter {
  line: Buffer;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class AuditSpool {
  readonly dir: string;
  readonly #sync: boolean;
  readonly #segmentBytes: number;
  readonly #loadIntervalMs: number;
  readonly #batchBytes: number;
  readonly #log: Logger;
  readonly #storeBackend: string;
  readonly #loaderConfig: LoaderConfig;
  #loader: Worker;
  #loaderExited!: Promise<void>;
  readonly #restarts = new Backoff({ initialMs: 1000, maxMs: 60_000 });
  #restartTimer: NodeJS.Timeout | undefined;
  /** the next segment, preallocated ahead of the rotation */
  #prepared: Promise<{ n: number; fd: number }> | undefined;
  #fd: number;
  #number: number;
  #size = 0;
  /** durable bytes the loader has not been told of */
  #unannounced = 0;
  #announceTimer: NodeJS.Timeout | undefined;
  #queue: Waiter[] = [];
  #writing = false;
  #depth = 0;
  #closed = false;
  #nextPrune = 0;
  readonly #prunes = new Map<number, { resolve: (n: number) => void; reject: (err: Error) => void }>();
  readonly #idle = new Set<() => void>();

  constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.#sync = (options.synchronous ?? 'FULL') === 'FULL';
    this.#segmentBytes = options.segmentBytes ?? 4 * 1024 * 1024;
    this.#loadIntervalMs = options.loadIntervalMs ?? DEFAULT_LOAD_INTERVAL_MS;
    this.#log = options.logger ?? componentLogger('audit-spool');
    this.#storeBackend = options.store.backend;
    mkdirSync(this.dir, { recursive: true });
    const left = readdirSync(this.dir)
      .filter((n) => SEGMENT.test(n))
      .sort();
    this.#number = left.length ? Number(SEGMENT.exec(left.at(-1)!)![1]) + 1 : 1;
    this.#fd = this.#openSegmentSync(this.#number);
    this.#prepareNext();
    const batchBytes = options.batchBytes ?? (options.store.backend === 'sqlite' ? 128 : 256) * 1024;
    this.#batchBytes = batchBytes;
    const config: LoaderConfig = {
      store: options.store,
      statementBytes:
        options.statementBytes ??
        (options.store.backend === 'sqlite' ? batchBytes : Math.min(batchBytes, POSTGRES_STATEMENT_BYTES)),
      retryMs: options.retryMs ?? 500,
      priority: options.loaderPriority ?? 'idle',
    };
    this.#loaderConfig = config;
    this.#loader = this.#startLoader();
    // what a previous run left goes first: every record in it counts as spooled until loaded
    this.#postSegmentsOnDisk();
    if (left.length) this.#log.info('loading audit records a previous run spooled', { records: this.#depth });
  }

  #startLoader(): Worker {
    // the compiled module is .js beside a .js worker; run from source, both are .ts
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    const loader = new Worker(new URL(`./spool-loader-worker.${ext}`, import.meta.url), {
      workerData: this.#loaderConfig,
      name: 'audit-loader',
    });
    loader.on('message', (r: LoaderReply) => this.#onReply(r));
    loader.on('error', (err) => this.#log.error('audit spool loader failed', { err }));
    this.#loaderExited = new Promise((resolve) =>
      loader.once('exit', () => {
        resolve();
        for (const [id, p] of this.#prunes) {
          this.#prunes.delete(id);
          p.reject(new AuditWriteError([this.dir, 'the loader exited before pruning']));
        }
        if (this.#closed) return;
        // a loader that cannot even start (the store cannot be opened) must not restart in a tight loop
        const delay = this.#restarts.next();
        this.#log.error('audit spool loader exited; starting another from the segments on disk', {
          restartInMs: Math.round(delay),
        });
        this.#restartTimer = setTimeout(() => this.#restartLoader(), delay);
      }),
    );
    return loader;
  }

  /**
   * The loader died (a bug, a store that threw outside a batch): a new one starts from what is on disk —
   * every segment from the start, at-least-once as after a crash. The depth is counted again from the files.
   */
  #restartLoader(): void {
    this.#restartTimer = undefined;
    if (this.#closed) return;
    this.#loader = this.#startLoader();
    this.#postSegmentsOnDisk();
  }

  /**
   * Tells the loader of every segment on disk up to the current one, and counts their records as the
   * spool's depth: sealed ones whole, the current one as far as appends were acknowledged. The segment
   * after the current one, preallocated ahead of the rotation, holds nothing yet: told of it, the loader
   * would find it empty and sealed, and delete the file the next appends are to go to.
   */
  #postSegmentsOnDisk(): void {
    this.#depth = 0;
    for (const name of readdirSync(this.dir).sort()) {
      const n = Number(SEGMENT.exec(name)?.[1] ?? Infinity);
      if (n > this.#number) continue;
      const current = n === this.#number;
      if (current && this.#size === 0) continue; // nothing appended yet
      const file = join(this.dir, name);
      const content = readFileSync(file);
      const end = current ? this.#size : content.length;
      this.#depth += linesIn(content, end);
      this.#post({ op: 'durable', file, end, sealed: !current });
    }
    this.#unannounced = 0;
    auditSpoolDepth.set(this.#depth);
  }

  /** the number of the segment appends go to (grows by one per segment) */
  get segment(): number {
    return this.#number;
  }

  /** records spooled and not yet in the store */
  get depth(): number {
    return this.#depth;
  }

  /** Appends one record (its JSON); resolves once it is durable (synchronous=FULL: on disk). */
  append(json: string): Promise<void> {
    if (this.#closed) return Promise.reject(new AuditWriteError([this.dir, 'the spool is closed']));
    const line = spoolLine(json);
    return new Promise((resolve, reject) => {
      this.#queue.push({ line, resolve, reject });
      if (!this.#writing) this.#writeNext();
    });
  }

  /** Tells the loader now, and waits until the spool is empty or the time is up; resolves to what is left. */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    this.#announce();
    this.#post({ op: 'retry' });
    while (this.#depth > 0 && !this.#closed) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#idle.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 200));
        this.#idle.add(done);
      });
      this.#announce();
    }
    return this.#depth;
  }

  /** Retention, on the loader's thread (it owns the SQLite write connection). */
  prune(retention: Retention, now = new Date()): Promise<number> {
    const id = ++this.#nextPrune;
    return new Promise((resolve, reject) => {
      this.#prunes.set(id, { resolve, reject });
      this.#post({ op: 'prune', id, retention, now: now.getTime() });
    });
  }

  /**
   * Stops: waits for the appends in flight, lets the loader finish its batch, then closes. What is not
   * loaded stays on disk for the next start; a fully loaded last segment is deleted.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    await new Promise<void>((resolve) => {
      const check = () => (this.#writing || this.#queue.length ? setTimeout(check, 5) : resolve());
      check();
    });
    this.#closed = true;
    if (this.#announceTimer) clearTimeout(this.#announceTimer);
    if (this.#restartTimer) clearTimeout(this.#restartTimer);
    this.#post({ op: 'durable', file: this.#file(this.#number), end: this.#size, sealed: true });
    this.#post({ op: 'stop' });
    await this.#loaderExited;
    if (this.#fd >= 0) closeSync(this.#fd);
    // the preallocated next segment holds nothing: not left for the next start to look at
    const unused = await this.#prepared?.catch(() => undefined);
    if (unused) {
      closeSync(unused.fd);
      rmSync(this.#file(unused.n), { force: true });
    }
    for (const p of this.#prunes.values()) p.reject(new AuditWriteError([this.dir, 'the spool closed']));
  }

  #writeNext(): void {
    const group = this.#queue;
    if (group.length === 0) {
      this.#writing = false;
      return;
    }
    this.#writing = true;
    if (this.#fd < 0) return this.#openNext(); // the last segment could not be opened: try again
    const buf = group.length === 1 ? group[0]!.line : Buffer.concat(group.map((w) => w.line));
    // past the preallocated size a write would grow the file (a metadata flush each): the next segment
    if (this.#size > 0 && this.#size + buf.length > this.#segmentBytes) return this.#rotate();
    this.#queue = [];
    const end = auditStoreWriteSeconds.startTimer({ backend: 'spool' });
    writeAll(this.#fd, buf, this.#size, (err) => {
      end();
      if (err) {
        const failure = new AuditWriteError([this.dir, err.message], { cause: err });
        for (const w of group) w.reject(failure);
        // a partial line may be in the segment: nothing more goes after it
        this.#rotate();
        return;
      }
      this.#size += buf.length;
      this.#unannounced += buf.length;
      this.#depth += group.length;
      auditSpoolDepth.set(this.#depth);
      for (const w of group) w.resolve();
      if (this.#unannounced >= this.#batchBytes) this.#announce();
      else this.#announceTimer ??= setTimeout(() => this.#announce(), this.#loadIntervalMs);
      this.#writeNext();
    });
  }

  /** Seals the current segment and continues in the next (prepared meanwhile, or now). */
  #rotate(): void {
    const oldFd = this.#fd;
    this.#post({ op: 'durable', file: this.#file(this.#number), end: this.#size, sealed: true });
    this.#unannounced = 0;
    this.#fd = -1;
    close(oldFd, () => {});
    this.#openNext();
  }

  #openNext(): void {
    const next = this.#prepared ?? this.#prepare(this.#number + 1);
    this.#prepared = undefined;
    next.then(
      ({ n, fd }) => {
        this.#number = n;
        this.#size = 0;
        this.#fd = fd;
        this.#prepareNext();
        this.#writeNext();
      },
      (err: Error) => this.#fail(err),
    );
  }

  /** Starts preparing the segment after the current one, so that a rotation never waits for it. */
  #prepareNext(): void {
    const next = this.#prepare(this.#number + 1);
    next.catch(() => {}); // a failure shows when it is used: #openNext prepares again
    this.#prepared = next;
  }

  /**
   * Segment `n`, preallocated: zeros written and flushed, then opened for the appends (O_DSYNC with
   * synchronous=FULL) and its directory entry flushed. Overwriting allocated blocks in place flushes only
   * the data, not the file's size and extents as an append does: cheaper, and faster (docs/audit.md).
   */
  async #prepare(n: number): Promise<{ n: number; fd: number }> {
    const file = this.#file(n);
    const { O_WRONLY, O_CREAT, O_EXCL } = constants;
    const zeros = Buffer.alloc(Math.min(256 * 1024, this.#segmentBytes));
    const handle = await fsp.open(file, O_WRONLY | O_CREAT | O_EXCL, 0o600);
    try {
      for (let at = 0; at < this.#segmentBytes; at += zeros.length)
        await handle.write(zeros, 0, Math.min(zeros.length, this.#segmentBytes - at), at);
      if (this.#sync) await handle.sync();
    } finally {
      await handle.close();
    }
    const fd = await new Promise<number>((resolve, reject) =>
      open(file, this.#flags(), (err, opened) => (err ? reject(err) : resolve(opened))),
    );
    await new Promise<void>((resolve, reject) =>
      syncDir(this.dir, this.#sync, (err) => (err ? reject(err) : resolve())),
    );
    return { n, fd };
  }

  #fail(err: Error): void {
    // no segment to write to: every waiting append fails (the review gets a 500); the next append retries
    const failure = new AuditWriteError([this.dir, err.message], { cause: err });
    for (const w of this.#queue.splice(0)) w.reject(failure);
    this.#writing = false;
    this.#log.error('audit spool cannot open a segment', { err, dir: this.dir });
  }

  #announce(): void {
    if (this.#announceTimer) clearTimeout(this.#announceTimer);
    this.#announceTimer = undefined;
    if (this.#unannounced === 0) return;
    this.#unannounced = 0;
    this.#post({ op: 'durable', file: this.#file(this.#number), end: this.#size, sealed: false });
  }

  #onReply(r: LoaderReply): void {
    switch (r.op) {
      case 'loaded':
        this.#restarts.reset();
        this.#depth = Math.max(0, this.#depth - r.lines);
        auditSpoolDepth.set(this.#depth);
        if (r.lines > r.skipped) auditStoreWriteSeconds.observe({ backend: this.#storeBackend }, r.seconds);
        if (r.skipped)
          this.#log.warn('skipped torn lines in the audit spool (writes a crash cut short, never answered)', {
            lines: r.skipped,
          });
        for (const done of [...this.#idle]) done();
        return;
      case 'failed':
        this.#log.warn('loading audit records into the store failed; they stay spooled and are retried', {
          err: r.error,
          spooled: this.#depth,
          retryInMs: r.retryInMs,
        });
        return;
      case 'pruned': {
        const p = this.#prunes.get(r.id);
        this.#prunes.delete(r.id);
        if (r.ok) p?.resolve(r.deleted);
        else p?.reject(new AuditWriteError([this.dir, `pruning failed: ${r.error}`]));
        return;
      }
      case 'stopped':
        void this.#loader.terminate();
        return;
    }
  }

  #post(req: LoaderRequest): void {
    this.#loader.postMessage(req);
  }

  #file(n: number): string {
    return join(this.dir, `${String(n).padStart(12, '0')}.spool`);
  }

  #flags(): number {
    const { O_WRONLY, O_DSYNC } = constants;
    return O_WRONLY | (this.#sync ? O_DSYNC : 0);
  }

  /** #prepare, at start: the first segment must exist before the first append. */
  #openSegmentSync(n: number): number {
    const file = this.#file(n);
    const { O_WRONLY, O_CREAT, O_EXCL } = constants;
    const zeroFd = openSync(file, O_WRONLY | O_CREAT | O_EXCL, 0o600);
    try {
      writeSync(zeroFd, Buffer.alloc(this.#segmentBytes), 0, this.#segmentBytes, 0);
      if (this.#sync) fsyncSync(zeroFd);
    } finally {
      closeSync(zeroFd);
    }
    const fd = openSync(file, this.#flags());
    if (this.#sync) {
      const dirFd = openSync(this.dir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    }
    return fd;
  }
}

/**
 * `<crc32 hex>\t<json>\n` with the JSON encoded once, straight into the line's buffer, and the checksum
 * taken over those bytes (rather than concatenating a string, encoding it, and encoding the JSON again
 * for the checksum): this runs on the event loop for every refused review.
 */
function spoolLine(json: string): Buffer {
  const size = Buffer.byteLength(json);
  const line = Buffer.allocUnsafe(size + 10);
  line.write(json, 9, 'utf8');
  line.write(
    crc32(line.subarray(9, 9 + size))
      .toString(16)
      .padStart(8, '0'),
    0,
    'latin1',
  );
  line[8] = 0x09;
  line[9 + size] = 0x0a;
  return line;
}

/** Whole lines among the first `end` bytes, up to the first NUL (the preallocated, unwritten rest). */
function linesIn(content: Buffer, end: number): number {
  const nul = content.indexOf(0);
  const limit = nul >= 0 && nul < end ? nul : end;
  let lines = 0;
  for (let i = content.indexOf(0x0a); i >= 0 && i < limit; i = content.indexOf(0x0a, i + 1)) lines++;
  return lines;
}

/** Writes the whole buffer at `position` (a regular file takes it unless it fails; a short write loops). */
function writeAll(
  fd: number,
  buf: Buffer,
  position: number,
  done: (err: Error | null) => void,
  offset = 0,
): void {
  write(fd, buf, offset, buf.length - offset, position + offset, (err, n) => {
    if (err) return done(err);
    if (offset + n < buf.length) return writeAll(fd, buf, position, done, offset + n);
    done(null);
  });
}

/** fsyncs a directory (a new file's entry), when durability asks for it. */
function syncDir(dir: string, sync: boolean, done: (err: Error | null) => void): void {
  if (!sync) return done(null);
  open(dir, 'r', (err, fd) => {
    if (err) return done(err);
    fsync(fd, (syncErr) => close(fd, () => done(syncErr)));
  });
}
