// Exact local rate limits across workers: the primary owns every local counter (one LocalStore) and the
// workers ask it over IPC. The primary answers messages one at a time on its event loop, so two workers
// can never both take the last request of a budget. Measured against the alternative (counters in a
// SharedArrayBuffer with Atomics): processes cannot share memory with the cluster module, only threads
// can, and SO_REUSEPORT needs processes; one IPC round trip (~tens of µs) per rate-limited request is the
// price, and only requests on routes with a local RateLimitPolicy pay it. Redis stores need none of this:
// each worker talks to Redis itself.
import type { Worker } from 'node:cluster';
import type { ConsumeResult, CounterCheck, RateLimitStore } from '../ratelimit/store.ts';
import type { FromWorker, ToWorker } from './messages.ts';

/** Primary side: answers one worker's count requests from the owner store, in the order asked. */
export function answerCounts(worker: Worker, store: RateLimitStore): void {
  worker.on('message', (m: FromWorker) => {
    if (m.t !== 'count') return;
    const answers = m.asks.map(({ id, checks }) => {
      try {
        const r = store.consume(checks);
        return r instanceof Promise
          ? r.then(
              (result) => ({ id, result }),
              () => ({ id, result: UNAVAILABLE }),
            )
          : { id, result: r };
      } catch {
        return { id, result: UNAVAILABLE };
      }
    });
    const reply = (results: { id: number; result: ConsumeResult }[]): void => {
      if (worker.isConnected()) worker.send({ t: 'counted', results } satisfies ToWorker);
    };
    // a local store answers at once; only a store that awaits costs a later reply
    if (answers.some((a) => a instanceof Promise)) void Promise.all(answers).then(reply);
    else reply(answers as { id: number; result: ConsumeResult }[]);
  });
}

const UNAVAILABLE: ConsumeResult = { kind: 'unavailable', allowed: true };

/** How long a worker waits for the primary before it answers with the fail mode. */
const ASK_TIMEOUT_MS = 2_000;

/**
 * Worker side: a store whose counters live in the primary. The asks of one event-loop turn travel as one
 * message (under load many requests reach the limiter in the same turn), which divides the IPC cost.
 */
export function remoteCounterStore(options: { failOpen: boolean }): RateLimitStore & {
  onMessage(m: ToWorker): void;
} {
  let next = 1;
  const waiting = new Map<number, { resolve: (r: ConsumeResult) => void; timer: NodeJS.Timeout }>();
  let batch: { id: number; checks: CounterCheck[] }[] = [];
  const flush = (): void => {
    const asks = batch;
    batch = [];
    process.send!({ t: 'count', asks } satisfies FromWorker);
  };
  return {
    kind: 'local',
    consume(checks: readonly CounterCheck[]): Promise<ConsumeResult> {
      const id = next++;
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve({ kind: 'unavailable', allowed: options.failOpen });
        }, ASK_TIMEOUT_MS);
        waiting.set(id, { resolve, timer });
        if (batch.length === 0) setImmediate(flush);
        batch.push({ id, checks: checks.map((c) => ({ key: c.key, limit: c.limit })) });
      });
    },
    onMessage(m) {
      if (m.t !== 'counted') return;
      for (const { id, result } of m.results) {
        const w = waiting.get(id);
        if (!w) continue;
        waiting.delete(id);
        clearTimeout(w.timer);
        w.resolve(result);
      }
    },
    async close() {
      for (const [id, w] of waiting) {
        clearTimeout(w.timer);
        w.resolve({ kind: 'unavailable', allowed: options.failOpen });
        waiting.delete(id);
      }
    },
  };
}
