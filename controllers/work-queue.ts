// A rate-limited work queue of string keys, after client-go's: a key waits in the queue at most once, is
// handed to one worker at a time (added again while being processed, it is marked dirty and handed out
// once more when done()), and failing keys come back after a per-key exponential backoff.
//
//   queue.add(key)                  // from informer handlers
//   const key = await queue.get()   // worker; undefined once shut down
//   ... queue.forget(key) on success | queue.addRateLimited(key) on failure ...
//   queue.done(key)

import { Backoff } from '../lib/async.ts';

export interface WorkQueueOptions {
  /** first retry delay; doubles per consecutive failure of a key; default 200 ms */
  baseDelayMs?: number;
  /** default 2 min */
  maxDelayMs?: number;
  /** called whenever the number of waiting keys changes (for a gauge) */
  onDepth?: (depth: number) => void;
}

export class WorkQueue {
  readonly #options: WorkQueueOptions;
  readonly #queue: string[] = [];
  #head = 0;
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();
  /** per failing key: how often it failed in a row, and its backoff (lib/async.ts) */
  readonly #failures = new Map<string, { count: number; backoff: Backoff }>();
  readonly #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  #shutDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#options = options;
  }

  get length(): number {
    return this.#queue.length - this.#head;
  }

  get shuttingDown(): boolean {
    return this.#shutDown;
  }

  add(key: string): void {
    if (this.#shutDown) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queued.add(key);
    this.#queue.push(key);
    this.#depthChanged();
  }

  /** Adds the key after a delay; an earlier pending addAfter for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shutDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const pending = this.#timers.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.#timers.set(key, { at, timer });
  }

  /** Adds the key after its backoff: base * 2^(failures-1), capped. */
  addRateLimited(key: string): void {
    this.addAfter(key, this.nextDelay(key));
  }

  /** The backoff the next addRateLimited(key) will use (and counts the failure). */
  nextDelay(key: string): number {
    let failing = this.#failures.get(key);
    if (!failing) {
      // no jitter: the delays of one key are what spaces its retries, not many clients colliding
      const backoff = new Backoff({
        initialMs: this.#options.baseDelayMs ?? 200,
        maxMs: this.#options.maxDelayMs ?? 120_000,
        jitter: 0,
      });
      this.#failures.set(key, (failing = { count: 0, backoff }));
    }
    failing.count++;
    return failing.backoff.next();
  }

  /** Clears the key's failure count (call after a success). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key)?.count ?? 0;
  }

  /** The next key, once there is one; undefined after shutDown(). */
  get(): Promise<string | undefined> {
    if (this.#shutDown) return Promise.resolve(undefined);
    if (this.length > 0) {
      const key = this.#queue[this.#head++]!;
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      this.#queued.delete(key);
      this.#processing.add(key);
      this.#depthChanged();
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks the key finished; if it was added meanwhile, it goes back in the queue. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /** Stops handing out keys; workers waiting in get() receive undefined. */
  shutDown(): void {
    this.#shutDown = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  /** Wakes waiting workers with undefined without shutting the queue down (to stop a worker pool). */
  releaseWaiters(): void {
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }

  #depthChanged(): void {
    this.#options.onDepth?.(this.length);
  }
}
