// The few timing tools the whole code base needs, one of each, so that a retry loop, a burst of watch
// events or a reload reads the same everywhere (in the manner of Deno std's `async` module):
//
//   await sleep(500, signal);                                   // returns early when signal aborts
//   const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
//   await sleep(backoff.next(), signal); ... backoff.reset();   // 500, 1000, 2000 .. 30 s, each ±20 %
//   const rebuild = debounce(() => emit(snapshot()), 100);      // a burst of calls -> one run
//   const reloads = new LatestWins(apply, { onError });         // newest input wins; one run at a time
//   reloads.offer(snapshot); await reloads.idle();
//
// Everything here goes through setTimeout and Date.now, so tests drive it with vitest's fake timers.

/**
 * Resolves after `ms`, or at once when `signal` aborts: a loop that sleeps between attempts checks its
 * own stop flag afterwards, so an abort must wake it rather than throw into it.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `ms` spread uniformly over ±`fraction` of itself, so that many clients retrying together drift apart. */
export function withJitter(ms: number, fraction: number, random: () => number = Math.random): number {
  return ms * (1 - fraction + random() * 2 * fraction);
}

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** growth per failure; default 2 */
  factor?: number;
  /** ± fraction of each delay; default 0.2 */
  jitter?: number;
  /** for tests: a deterministic source of [0, 1) */
  random?: () => number;
}

/** Exponential backoff with jitter, capped; reset() after a success starts again from initialMs. */
export class Backoff {
  readonly #o: Required<BackoffOptions>;
  #baseMs: number;

  constructor(options: BackoffOptions) {
    this.#o = { factor: 2, jitter: 0.2, random: Math.random, ...options };
    this.#baseMs = options.initialMs;
  }

  /** The delay before the next attempt (jittered); each call grows the following one, up to maxMs. */
  next(): number {
    const delay = withJitter(this.#baseMs, this.#o.jitter, this.#o.random);
    this.#baseMs = Math.min(this.#baseMs * this.#o.factor, this.#o.maxMs);
    return delay;
  }

  /** The un-jittered delay next() will use. */
  get baseMs(): number {
    return this.#baseMs;
  }

  reset(): void {
    this.#baseMs = this.#o.initialMs;
  }
}

export interface Debounced {
  /** (re)starts the wait; `fn` runs once when calls stop for waitMs (or maxWaitMs after the first) */
  (): void;
  /** runs `fn` now if a run is pending */
  flush(): void;
  /** drops a pending run */
  cancel(): void;
  readonly pending: boolean;
}

export interface DebounceOptions {
  /** run no later than this long after the first call of a burst, however long the burst lasts.
   *  `maxWaitMs: waitMs` gives "at most one run per waitMs, starting at the first call". */
  maxWaitMs?: number;
  /** keep the process alive while a run is pending; default false (unref'd timer) */
  ref?: boolean;
}

/**
 * Coalesces a burst of calls into one run of `fn` after the burst. `fn` takes no arguments on purpose:
 * it should read the current state when it runs, not an argument of some call in the burst.
 */
export function debounce(fn: () => void, waitMs: number, options: DebounceOptions = {}): Debounced {
  let timer: NodeJS.Timeout | undefined;
  let firstCallAt = 0;
  const run = () => {
    clearTimeout(timer);
    timer = undefined;
    fn();
  };
  const debounced = () => {
    const now = Date.now();
    if (!timer) firstCallAt = now;
    clearTimeout(timer);
    const untilMax = options.maxWaitMs === undefined ? Infinity : firstCallAt + options.maxWaitMs - now;
    timer = setTimeout(run, Math.max(0, Math.min(waitMs, untilMax)));
    if (!options.ref) timer.unref();
  };
  return Object.defineProperties(debounced, {
    flush: { value: () => timer && run() },
    cancel: { value: () => (clearTimeout(timer), (timer = undefined)) },
    pending: { get: () => timer !== undefined },
  }) as Debounced;
}

export interface LatestWinsOptions<T> {
  /** a failed run is reported here; the runner carries on with the next input */
  onError: (err: unknown, input: T) => void;
  /** how long to wait after a run that took `lastRunMs` before starting the next; default none */
  spacingMs?: (lastRunMs: number) => number;
}

/**
 * Runs the newest input, at most one run in flight; inputs offered meanwhile replace each other, so a
 * burst of ten costs one more run, not ten.
 */
export class LatestWins<T> {
  readonly #run: (input: T) => Promise<void>;
  readonly #o: LatestWinsOptions<T>;
  #pending: { input: T } | undefined;
  #draining: Promise<void> | undefined;
  #lastEnd = 0;
  #lastRunMs = 0;

  constructor(run: (input: T) => Promise<void>, options: LatestWinsOptions<T>) {
    this.#run = run;
    this.#o = options;
  }

  /** Queues `input`, replacing any not yet started. */
  offer(input: T): void {
    this.#pending = { input };
    this.#draining ??= this.#drain().finally(() => (this.#draining = undefined));
  }

  /** Resolves when every input offered so far has run (or been replaced by a later one that ran). */
  idle(): Promise<void> {
    return this.#draining ?? Promise.resolve();
  }

  async #drain(): Promise<void> {
    while (this.#pending) {
      const wait = this.#lastEnd + (this.#o.spacingMs?.(this.#lastRunMs) ?? 0) - Date.now();
      if (wait > 0) await sleep(wait);
      const { input } = this.#pending;
      this.#pending = undefined;
      const started = Date.now();
      try {
        await this.#run(input);
      } catch (err) {
        this.#o.onError(err, input);
      }
      this.#lastEnd = Date.now();
      this.#lastRunMs = this.#lastEnd - started;
    }
  }
}
