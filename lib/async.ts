// Small async building blocks shared by the components.

export interface LatestWins<T> {
  /** Queues a value, replacing any not yet taken: a burst of offers costs one run, with the latest value. */
  offer(value: T): void;
  /** Resolves when every offered value has been run (or superseded). */
  idle(): Promise<void>;
}

export interface LatestWinsOptions {
  /**
   * How long to wait after a run before the next one, given how long the last run took. A run that blocks
   * the event loop (a route-table compile) can ask for a gap so other work gets its share of the time.
   */
  gapMs?: (lastRunMs: number) => number;
}

/**
 * Runs `run` on the latest offered value, one run at a time. A value offered while a run is in progress
 * is run after it; values offered in between replace each other. `run` should not throw; if it does, the
 * error is rethrown to whoever awaits idle() and later offers still run.
 */
export function latestWins<T>(
  run: (value: T) => Promise<void>,
  options: LatestWinsOptions = {},
): LatestWins<T> {
  let pending: { value: T } | undefined;
  let running: Promise<void> | undefined;
  let lastEnd = 0;
  let lastRunMs = 0;
  const drain = async (): Promise<void> => {
    while (pending) {
      const wait = options.gapMs ? lastEnd + options.gapMs(lastRunMs) - Date.now() : 0;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const { value } = pending;
      pending = undefined;
      const started = Date.now();
      try {
        await run(value);
      } finally {
        lastEnd = Date.now();
        lastRunMs = lastEnd - started;
      }
    }
  };
  return {
    offer(value) {
      pending = { value };
      running ??= drain().finally(() => (running = undefined));
    },
    idle: () => running ?? Promise.resolve(),
  };
}
