// Rate-limit metrics, registered once per process on the shared registry.
import { Counter, Gauge } from 'prom-client';
import { registry } from '../../lib/metrics.ts';
import { decisionCounter, type DecisionCounts } from '../policy-attachment/decision-metrics.ts';

const decisions = decisionCounter({
  name: 'tenantgate_ratelimit_decisions_total',
  help: 'Rate-limit decisions by policy (namespace/name) and outcome (allowed, limited, failed_open, failed_closed)',
  decisions: ['allowed', 'limited', 'failed_open', 'failed_closed'] as const,
});

export type DecisionTally = DecisionCounts<'allowed' | 'limited' | 'failed_open' | 'failed_closed'>;

/** Per policy (namespace/name); kept for the life of the process, like any counter series. */
export const decisionTally = (policy: string): DecisionTally => decisions.tally(policy);

export const decisionsTotal = decisions.counter;

export const storeUnavailableTotal = new Counter({
  name: 'tenantgate_ratelimit_store_unavailable_total',
  help: 'Requests decided by the fail mode because the shared (Redis) store could not answer',
  labelNames: ['store', 'mode'] as const,
  registers: [registry],
});

/** Redis stores report their connection state at scrape time (events arrive a tick late). */
const redisStores = new Set<{ readonly name: string; readonly connected: boolean }>();

export const redisConnected = new Gauge({
  name: 'tenantgate_ratelimit_redis_connected',
  help: '1 while the Redis rate-limit store is connected and ready, else 0',
  labelNames: ['store'] as const,
  registers: [registry],
  collect() {
    for (const s of redisStores) this.labels(s.name).set(s.connected ? 1 : 0);
  },
});

export function trackRedisStore(store: { readonly name: string; readonly connected: boolean }): () => void {
  redisStores.add(store);
  return () => {
    redisStores.delete(store);
    redisConnected.labels(store.name).set(0);
  };
}

export const redisScriptLoadsTotal = new Counter({
  name: 'tenantgate_ratelimit_redis_script_loads_total',
  help: 'Times the rate-limit Lua script was (re)loaded after NOSCRIPT (e.g. a Redis restart)',
  labelNames: ['store'] as const,
  registers: [registry],
});

export const localEvictionsTotal = new Counter({
  name: 'tenantgate_ratelimit_local_evictions_total',
  help: 'Local rate-limit counters dropped to stay under the key cap (least recently used first)',
  registers: [registry],
});

/** Live local stores report their size at scrape time instead of on every request. */
const localStores = new Set<{ readonly size: number }>();

export const localKeys = new Gauge({
  name: 'tenantgate_ratelimit_local_keys',
  help: 'Counters held by the local rate-limit stores of this process',
  registers: [registry],
  collect() {
    let n = 0;
    for (const s of localStores) n += s.size;
    this.set(n);
  },
});

export function trackLocalStore(store: { readonly size: number }): () => void {
  localStores.add(store);
  return () => localStores.delete(store);
}
