// The primary side of `tenantgate proxy --workers N`: N worker processes (worker-main.ts) that share each
// listening port (SO_REUSEPORT on Linux: the kernel spreads connections; every worker listens itself, so
// a worker's death closes no listener of the others). The primary keeps the input source, the compiler
// and the status writer — one set of watches per pod — and ships every route table to the workers as IR.
// It also owns the local rate-limit counters (counter-owner.ts) and answers /metrics with the workers'
// figures merged (prom-client's AggregatorRegistry). A worker that exits is replaced and given the
// current table; stop() drains every worker.
import cluster, { type Worker } from 'node:cluster';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AggregatorRegistry, Gauge, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { Logger } from '../../lib/logger.ts';
import { registry, setMetricsCollector } from '../../lib/metrics.ts';
import type { AttachedPolicyInputs } from '../attached-policies.ts';
import type { RateLimitStore } from '../ratelimit/store.ts';
import type { BindProblem } from '../serving.ts';
import type { RouteTableIR } from '../table/ir.ts';
import type { ConfigMapRelay, ConfigMapsMessage } from './configmap-relay.ts';
import { answerCounts } from './counter-owner.ts';
import { WORKER_CONFIG_ENV, type FromWorker, type ToWorker, type WorkerConfig } from './messages.ts';
import { defineError } from '../../lib/errors.ts';

const WorkerApplyError = defineError('TG_PROXY_WORKER_APPLY', 'a worker could not apply the route table: %s');

export const liveWorkers = new Gauge({
  name: 'tenantgate_proxy_workers',
  help: 'Proxy worker processes alive (each serves every listener)',
  registers: [],
});

export interface WorkerPoolOptions {
  count: number;
  config: WorkerConfig;
  /** the owner of local rate-limit counters; undefined when counters are in Redis or policies are off */
  counters?: RateLimitStore;
  log: Logger;
  /** how long a table may take to be applied by every worker */
  applyTimeoutMs?: number;
  /** how long stop() waits for a worker to drain before killing it */
  drainMs: number;
  /** the ConfigMaps policy bundles come from, relayed to every worker (they open no watch) */
  configMaps?: (onChange: (m: ConfigMapsMessage) => void) => Promise<ConfigMapRelay>;
}

const here = fileURLToPath(import.meta.url);
const WORKER_ENTRY = path.join(path.dirname(here), `worker-main${path.extname(here)}`);

export class WorkerPool {
  readonly #o: WorkerPoolOptions;
  readonly #workers = new Set<Worker>();
  /** workers that said ready and were sent the current table */
  readonly #serving = new Set<Worker>();
  #latest: Extract<ToWorker, { t: 'table' }> | undefined;
  #acks = new Map<Worker, (m: Extract<FromWorker, { t: 'applied' }>) => void>();
  #stopping = false;
  #recentDeaths: number[] = [];
  #nextMetricsId = 1;
  #binds: string[] = [];
  #loaded = false;
  #relay: Promise<ConfigMapRelay> | undefined;

  constructor(options: WorkerPoolOptions) {
    this.#o = options;
    this.#relay = options.configMaps?.((m) => {
      for (const worker of this.#serving) worker.send(m);
    });
    registry.registerMetric(liveWorkers);
    cluster.setupPrimary({ exec: WORKER_ENTRY, args: [], silent: false });
    for (let i = 0; i < options.count; i++) this.#fork();
    setMetricsCollector(() => this.metrics());
  }

  /** true once every worker applied a table */
  get loaded(): boolean {
    return this.#loaded;
  }

  get binds(): string[] {
    return this.#binds;
  }

  get size(): number {
    return this.#workers.size;
  }

  /** The worker processes' ids (tests kill one). */
  get pids(): number[] {
    return [...this.#workers].map((w) => w.process.pid!).filter(Boolean);
  }

  #fork(): void {
    const worker = cluster.fork({ [WORKER_CONFIG_ENV]: JSON.stringify(this.#o.config) });
    this.#workers.add(worker);
    if (this.#o.counters) answerCounts(worker, this.#o.counters);
    worker.on('message', (m: FromWorker) => {
      if (m.t === 'ready') void this.#onReady(worker);
      else if (m.t === 'applied') {
        this.#acks.get(worker)?.(m);
      }
    });
    worker.on('exit', (code, signal) => {
      this.#workers.delete(worker);
      this.#serving.delete(worker);
      this.#acks.get(worker)?.({ t: 'applied', generation: -1, bindErrors: [], error: 'worker exited' });
      liveWorkers.set(this.#serving.size);
      if (this.#stopping) return;
      this.#o.log.error('proxy worker exited; starting a replacement', {
        pid: worker.process.pid,
        code,
        signal,
      });
      // a worker that dies at start would otherwise be replaced in a tight loop
      const now = Date.now();
      this.#recentDeaths = [...this.#recentDeaths.filter((t) => now - t < 10_000), now];
      const delay = this.#recentDeaths.length > 3 ? 1_000 : 0;
      setTimeout(() => !this.#stopping && this.#fork(), delay).unref();
    });
  }

  /** A worker that said ready gets the relayed ConfigMaps (once the primary has them), then the table. */
  async #onReady(worker: Worker): Promise<void> {
    const relay = await this.#relay?.catch((err: unknown) => {
      this.#o.log.error('ConfigMaps of policy bundles not relayed to proxy workers', { err });
      return undefined;
    });
    if (worker.isDead() || this.#stopping) return;
    // without a relay the worker still needs an answer to count its ConfigMaps as synced: none exist,
    // so its bundles from ConfigMaps are refused (their AccessPolicies fail closed) instead of waiting
    if (this.#relay) worker.send(relay ? relay.snapshot() : { t: 'configMaps', items: [] });
    this.#serving.add(worker);
    liveWorkers.set(this.#serving.size);
    if (this.#latest) worker.send(this.#latest);
  }

  /** Ships the table to every worker; resolves when each has applied it (or failed, or exited). */
  async apply(ir: RouteTableIR, policyInputs: AttachedPolicyInputs): Promise<BindProblem[]> {
    const message: ToWorker = { t: 'table', ir, policyInputs };
    this.#latest = message;
    const timeoutMs = this.#o.applyTimeoutMs ?? 60_000;
    const targets = [...this.#workers];
    const results = await Promise.all(
      targets.map(
        (worker) =>
          new Promise<Extract<FromWorker, { t: 'applied' }> | undefined>((resolve) => {
            const timer = setTimeout(() => resolve(undefined), timeoutMs);
            this.#acks.set(worker, (m) => {
              if (m.generation !== ir.generation && m.generation !== -1) return;
              clearTimeout(timer);
              this.#acks.delete(worker);
              resolve(m);
            });
            // a worker not ready yet gets the latest table when it says ready
            if (this.#serving.has(worker)) worker.send(message);
          }),
      ),
    );
    const errors = results.find((r) => r?.error && r.generation !== -1)?.error;
    if (errors) throw new WorkerApplyError([errors]);
    const problems = new Map<string, BindProblem>();
    for (const r of results) for (const p of r?.bindErrors ?? []) problems.set(p.key, p);
    this.#binds = ir.binds.map((b) => b.key).filter((k) => !problems.has(k));
    this.#loaded = true;
    return [...problems.values()];
  }

  /** The primary's registry and every worker's, merged (counters and gauges summed, per prom-client). */
  async metrics(): Promise<string> {
    const own = await registry.getMetricsAsJSON();
    const replies = await Promise.all(
      [...this.#serving].map(
        (worker) =>
          new Promise<MetricObjectWithValues<MetricValue<string>>[]>((resolve) => {
            const id = this.#nextMetricsId++;
            const timer = setTimeout(() => done([]), 2_000);
            const onMessage = (m: FromWorker) => m.t === 'metrics' && m.id === id && done(m.metrics);
            const done = (metrics: MetricObjectWithValues<MetricValue<string>>[]) => {
              clearTimeout(timer);
              worker.off('message', onMessage);
              resolve(metrics);
            };
            worker.on('message', onMessage);
            worker.send({ t: 'metrics', id } satisfies ToWorker);
          }),
      ),
    );
    return AggregatorRegistry.aggregate([own, ...replies]).metrics();
  }

  /** Drains every worker (they stop accepting and let open requests finish), then returns. */
  async close(): Promise<void> {
    this.#stopping = true;
    setMetricsCollector(undefined);
    void this.#relay?.then(
      (r) => r.stop(),
      () => undefined,
    );
    const exits = [...this.#workers].map(
      (worker) =>
        new Promise<void>((resolve) => {
          if (worker.isDead()) return resolve();
          const timer = setTimeout(() => worker.kill('SIGKILL'), this.#o.drainMs + 5_000);
          worker.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          if (worker.isConnected()) worker.send({ t: 'stop' } satisfies ToWorker);
          else worker.kill('SIGTERM');
        }),
    );
    await Promise.all(exits);
    registry.removeSingleMetric('tenantgate_proxy_workers');
  }
}
