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

/** Primary side: answers one worker's count requests from the owner store. */
export function answerCounts(worker: Worker, store: RateLimitStore): void {
  worker.on('message', (m: FromWorker) => {
    if (m.t !== 'count') return;
    const reply = (result: ConsumeResult): void => {
      if (worker.isConnected()) worker.send({ t: 'counted', id: m.id, result } satisfies ToWorker);
    };
    try {
      const r = store.consume(m.checks);
      if (r instanceof Promise) r.then(reply, () => reply({ kind: 'unavailable', allowed: true }));
      else reply(r);
    } catch {
      reply({ kind: 'unavailable', allowed: true });
    }
  });
}

/** How long a worker waits for the primary before it answers with the fail mode. */
const ASK_TIMEOUT_MS = 2_000;

/** Worker side: a store whose counters live in the primary. */
export function remoteCounterStore(options: { failOpen: boolean }): RateLimitStore & {
  onMessage(m: ToWorker): void;
} {
  let next = 1;
  const waiting = new Map<number, { resolve: (r: ConsumeResult) => void; timer: NodeJS.Timeout }>();
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
        process.send!({ t: 'count', id, checks: checks.map((c) => ({ key: c.key, limit: c.limit })) });
      });
    },
    onMessage(m) {
      if (m.t !== 'counted') return;
      const w = waiting.get(m.id);
      if (!w) return;
      waiting.delete(m.id);
      clearTimeout(w.timer);
      w.resolve(m.result);
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
