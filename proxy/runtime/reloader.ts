// Applies snapshots one at a time, latest wins: a burst of changes (EndpointSlices churn during a
// rollout) costs one compile, not one per event. Compiling blocks the event loop for as long as it takes
// (a few hundred ms at 10,000 routes), so consecutive compiles are also spaced by the last one's duration:
// traffic always gets at least half of the time.

export class Reloader<T> {
  readonly #apply: (input: T) => Promise<void>;
  readonly #maxGapMs: number;
  #pending: { input: T } | undefined;
  #running: Promise<void> | undefined;
  #lastEnd = 0;
  #lastDurationMs = 0;

  constructor(apply: (input: T) => Promise<void>, options: { maxGapMs?: number } = {}) {
    this.#apply = apply;
    this.#maxGapMs = options.maxGapMs ?? 2000;
  }

  /** Queues a snapshot, replacing any not yet applied. */
  offer(input: T): void {
    this.#pending = { input };
    this.#running ??= this.#drain().finally(() => (this.#running = undefined));
  }

  /** Resolves when every offered snapshot has been applied (or superseded). */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  async #drain(): Promise<void> {
    while (this.#pending) {
      const wait = this.#lastEnd + Math.min(this.#maxGapMs, this.#lastDurationMs) - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const { input } = this.#pending;
      this.#pending = undefined;
      const started = Date.now();
      await this.#apply(input);
      this.#lastEnd = Date.now();
      this.#lastDurationMs = this.#lastEnd - started;
    }
  }
}
