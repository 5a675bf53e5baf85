// A proxy worker process (forked by pool.ts): it serves traffic and nothing else. It receives each route
// table as IR from the primary, builds its own policy instances from the snapshot's policy objects
// (local rate-limit counters stay in the primary: counter-owner.ts), materialises and swaps the table,
// and listens with SO_REUSEPORT next to its siblings. It opens no watch and writes no status.
import { componentLogger } from '../../lib/logger.ts';
import { registry } from '../../lib/metrics.ts';
import { PolicyRuntime } from '../policy-runtime.ts';
import { compactHeapSoon } from '../runtime/heap.ts';
import { ServingPlane } from '../serving.ts';
import { RelayedConfigMaps } from './configmap-relay.ts';
import { remoteCounterStore } from './counter-owner.ts';
import { WORKER_CONFIG_ENV, type FromWorker, type ToWorker, type WorkerConfig } from './messages.ts';

const log = componentLogger('proxy.worker');
const config = JSON.parse(process.env[WORKER_CONFIG_ENV] ?? '{}') as WorkerConfig;
const send = (m: FromWorker): void => void process.send?.(m);

const serving = new ServingPlane({ ...config.serving, log, reusePort: true });
const counters =
  config.policies && !config.policies.rateLimitRedis
    ? remoteCounterStore({ failOpen: config.policies.rateLimitFailMode === 'open' })
    : undefined;
const configMaps = config.relayedConfigMaps ? new RelayedConfigMaps() : undefined;
const policies = config.policies
  ? new PolicyRuntime({
      settings: config.policies,
      ...(counters ? { rateLimitStore: counters } : {}),
      // bundles from ConfigMaps: read from what the primary relays, the first relay counting as synced
      ...(configMaps ? { configMaps: () => configMaps.synced } : {}),
      // the primary sees rule changes too and ships a new table; this worker only follows
      onRulesChanged: () => undefined,
      logger: log,
    })
  : undefined;

let stopping = false;
let applying = Promise.resolve();

let lastCompaction = 0;

async function apply(m: Extract<ToWorker, { t: 'table' }>): Promise<void> {
  const started = Date.now();
  try {
    await policies?.prepare(m.policyInputs);
    const attach = policies?.compile(m.policyInputs).attach;
    const bindErrors = await serving.apply(m.ir, attach);
    send({ t: 'applied', generation: m.ir.generation, bindErrors });
    // the IR message and the materialising leave the heap grown (as a compile does in the primary)
    if (Date.now() - started >= 50 && Date.now() - lastCompaction >= 60_000) {
      lastCompaction = Date.now();
      compactHeapSoon();
    }
  } catch (err) {
    log.error('route table not applied in this worker; the last good one keeps serving', { err });
    send({ t: 'applied', generation: m.ir.generation, bindErrors: [], error: (err as Error).message });
  }
}

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await applying;
  await serving.close();
  await policies?.close();
  await counters?.close();
  process.disconnect?.();
  process.exit(0);
}

process.on('message', (m: ToWorker) => {
  switch (m.t) {
    case 'table':
      // one table at a time, in order: the primary already dropped superseded ones
      applying = applying.then(() => apply(m));
      break;
    case 'counted':
      counters?.onMessage(m);
      break;
    case 'configMaps':
      configMaps?.onMessage(m);
      break;
    case 'metrics':
      registry.getMetricsAsJSON().then(
        (metrics) => send({ t: 'metrics', id: m.id, metrics }),
        () => send({ t: 'metrics', id: m.id, metrics: [] }),
      );
      break;
    case 'stop':
      void stop();
      break;
  }
});
// The primary drains the workers itself (a `stop` message) and must not see them exit first, or it would
// replace them: a SIGTERM or SIGINT sent to the whole process group is left to it. Without a primary (it
// was killed) the 'disconnect' below stops this worker.
process.on('SIGTERM', () => void (process.connected ? undefined : stop()));
process.on('SIGINT', () => undefined);
process.on('disconnect', () => void stop());
send({ t: 'ready' });
