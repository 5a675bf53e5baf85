// Durable writes off the event loop. node:sqlite is synchronous: a commit with synchronous=FULL blocks
// its thread for the fsync, which on the admission thread would stall every review in flight, allowed
// ones too. So one worker thread owns the write connection; append() resolves once the record's commit
// is durable, and appends that arrive during a commit share the next one (group commit: one fsync each
// for all of them). The webhook awaits append() before it answers.
import { Worker } from 'node:worker_threads';
import { defineError } from '../../lib/errors.ts';
import type { AuditRecord } from '../audit-log.ts';
import type { Retention } from './store.ts';
import type { SpooledRow, WriterConfig, WriterReply, WriterRequest } from './durable-writer-worker.ts';

export const AuditWriteError = defineError('TG_AUDIT_WRITE', 'audit record not stored durably in %s: %s');

type Pending = { resolve: (v: never) => void; reject: (err: Error) => void };
type Request = WriterRequest extends infer R ? (R extends WriterRequest ? Omit<R, 'id'> : never) : never;

export class DurableWriter {
  readonly path: string;
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #inflight = new Set<Promise<unknown>>();
  #next = 0;
  #closed = false;
  readonly #exited: Promise<void>;

  constructor(config: WriterConfig) {
    this.path = config.path;
    // the compiled module is .js beside a .js worker; run from source, both are .ts
    const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
    this.#worker = new Worker(new URL(`./durable-writer-worker.${ext}`, import.meta.url), {
      workerData: config,
    });
    this.#worker.on('message', (r: WriterReply) => {
      const p = this.#pending.get(r.id);
      if (!p) return;
      this.#pending.delete(r.id);
      if (r.ok) p.resolve(r.result as never);
      else p.reject(new AuditWriteError([this.path, r.error]));
    });
    this.#worker.on('error', (err) => this.#failAll(err.message, err));
    this.#exited = new Promise((resolve) =>
      this.#worker.once('exit', () => {
        this.#failAll('the audit writer thread exited');
        resolve();
      }),
    );
  }

  /** Resolves once the record is committed (fsync'd with synchronous=FULL). */
  append(record: AuditRecord): Promise<number> {
    return this.#send({ op: 'append', record });
  }

  /** spool mode: the oldest spooled rows */
  read(limit: number): Promise<SpooledRow[]> {
    return this.#send({ op: 'read', limit });
  }

  /** spool mode: how many rows are spooled */
  count(): Promise<number> {
    return this.#send({ op: 'count' });
  }

  /** spool mode: deletes what was shipped, up to and including `upTo` */
  delete(upTo: number): Promise<number> {
    return this.#send({ op: 'delete', upTo });
  }

  /** store mode: retention, on the writer thread (a delete commits and fsyncs too) */
  prune(retention: Retention, now = new Date()): Promise<number> {
    return this.#send({ op: 'prune', retention, now: now.getTime() });
  }

  /** Waits for the writes in flight, then stops the thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#inflight);
    await this.#worker.terminate();
    await this.#exited;
  }

  #send<T>(req: Request): Promise<T> {
    if (this.#closed) return Promise.reject(new AuditWriteError([this.path, 'the writer is closed']));
    const id = ++this.#next;
    const promise = new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: never) => void, reject });
      this.#worker.postMessage({ ...req, id });
    });
    this.#inflight.add(promise);
    const done = () => void this.#inflight.delete(promise);
    promise.then(done, done);
    return promise;
  }

  #failAll(reason: string, cause?: Error): void {
    for (const [id, p] of this.#pending) {
      this.#pending.delete(id);
      p.reject(new AuditWriteError([this.path, reason], cause ? { cause } : undefined));
    }
  }
}
