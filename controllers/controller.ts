// The controller runtime: a work queue drained by a bounded pool of workers that call `reconcile(key)`.
// Keys are typed (a controller's own union, e.g. tenant-keys.ts); their string form, from `keys.encode`,
// is only the queue's identity, as client-go's keys are comparable values.
// Informer handlers call enqueue(); keys accumulate while the workers are stopped (a standby replica) and
// are worked off when they start (this replica became the leader). One key is reconciled by at most one
// worker at a time; a failure requeues it with per-key exponential backoff; a result may ask for a
// requeue after a delay. Metrics: reconciles by result, duration, queue depth.
import { Counter, Gauge, Histogram } from 'prom-client';
import type { Logger } from '../lib/logger.ts';
import { errorMessage } from '../lib/errors.ts';
import { registry } from '../lib/metrics.ts';
import { WorkQueue } from './work-queue.ts';

export interface ReconcileResult {
  /** reconcile this key again after this long, even if nothing changes */
  requeueAfterMs?: number;
}

export type Reconcile<K> = (key: K) => Promise<ReconcileResult | void>;

/** A controller's keys and their string form in the queue: decode(encode(k)) is k. */
export interface WorkKeys<K> {
  encode(key: K): string;
  /** undefined: not a key of this controller (dropped with a warning) */
  decode(text: string): K | undefined;
}

/** Plain string keys (tests, and controllers whose key is just a name). */
export const stringKeys: WorkKeys<string> = { encode: (k) => k, decode: (k) => k };

export interface ControllerOptions<K> {
  name: string;
  keys: WorkKeys<K>;
  reconcile: Reconcile<K>;
  /** parallel reconciles of different keys; default 4 */
  concurrency?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  logger: Logger;
}

const reconciles = new Counter({
  name: 'tenantgate_operator_reconciles_total',
  help: 'Reconciles by controller and result (success, requeue, error)',
  labelNames: ['controller', 'result'] as const,
  registers: [registry],
});
const reconcileSeconds = new Histogram({
  name: 'tenantgate_operator_reconcile_duration_seconds',
  help: 'Time spent in one reconcile',
  labelNames: ['controller'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});
const queueDepth = new Gauge({
  name: 'tenantgate_operator_queue_depth',
  help: 'Keys waiting in the work queue',
  labelNames: ['controller'] as const,
  registers: [registry],
});

export class Controller<K> {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #options: ControllerOptions<K>;
  #workers: Promise<void>[] = [];
  #running = false;
  readonly #inflight = new Set<string>();

  constructor(options: ControllerOptions<K>) {
    this.name = options.name;
    this.#options = options;
    this.queue = new WorkQueue({
      baseDelayMs: options.baseDelayMs,
      maxDelayMs: options.maxDelayMs,
      onDepth: (depth) => queueDepth.set({ controller: options.name }, depth),
    });
  }

  enqueue(key: K): void {
    this.queue.add(this.#options.keys.encode(key));
  }

  get running(): boolean {
    return this.#running;
  }

  /** Starts the worker pool (idempotent). */
  start(): void {
    if (this.#running || this.queue.shuttingDown) return;
    this.#running = true;
    const n = Math.max(1, this.#options.concurrency ?? 4);
    this.#workers = Array.from({ length: n }, () => this.#worker());
  }

  /** Stops the workers after their current reconcile; queued keys stay for the next start(). */
  async stopWorkers(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    this.queue.releaseWaiters();
    await Promise.all(this.#workers);
    this.#workers = [];
  }

  /** Stops for good. */
  async shutDown(): Promise<void> {
    this.queue.shutDown();
    await this.stopWorkers();
  }

  async #worker(): Promise<void> {
    while (this.#running) {
      const key = await this.queue.get();
      if (key === undefined) return;
      if (!this.#running) {
        // woken up to stop but got a key: put it back for whoever leads next
        this.queue.done(key);
        this.queue.add(key);
        return;
      }
      await this.#process(key);
    }
  }

  async #process(key: string): Promise<void> {
    const { logger, reconcile, name, keys } = this.#options;
    const typed = keys.decode(key);
    if (typed === undefined) {
      logger.warn('ignoring an unknown work-queue key', { controller: name, key });
      this.queue.forget(key);
      this.queue.done(key);
      return;
    }
    const end = reconcileSeconds.startTimer({ controller: name });
    this.#inflight.add(key);
    try {
      const result = await reconcile(typed);
      this.queue.forget(key);
      if (result?.requeueAfterMs !== undefined) {
        reconciles.inc({ controller: name, result: 'requeue' });
        this.queue.addAfter(key, result.requeueAfterMs);
      } else {
        reconciles.inc({ controller: name, result: 'success' });
      }
    } catch (err) {
      reconciles.inc({ controller: name, result: 'error' });
      const delay = this.queue.nextDelay(key);
      logger.warn('reconcile failed; will retry', {
        key,
        error: errorMessage(err),
        retryInMs: delay,
        failures: this.queue.failures(key),
      });
      this.queue.addAfter(key, delay);
    } finally {
      end();
      this.#inflight.delete(key);
      this.queue.done(key);
    }
  }
}
