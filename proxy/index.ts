// The embedded Gateway API proxy: `startProxy(options)` wires an input source (files, a fixed snapshot,
// or — once kube/ provides informers — the cluster) to the pure route-table compiler, the listening
// servers and the pooled upstreams. Every snapshot compiles into a new immutable table that is swapped in
// at once; a snapshot that cannot be compiled leaves the last good table serving.
import { startAdminServer, type AdminServer } from '../lib/admin-server.ts';
import { defineError } from '../lib/errors.ts';
import { componentLogger } from '../lib/logger.ts';
import { GATEWAY_CONTROLLER_NAME } from '../api/common.ts';
import type { RouteTable } from './table/types.ts';
import type { ProxyInputs } from './model/inputs.ts';
import type { AttachPolicies } from './request-policy.ts';
import { LatestWins } from '../lib/async.ts';
import { reloads, tableRoutes } from './runtime/metrics.ts';
import type { ServerLimits } from './runtime/servers.ts';
import { compactHeapSoon } from './runtime/heap.ts';
import { ServingPlane } from './serving.ts';
import { analysisStage, irStage, policyInputsOf } from './reload-stages.ts';
import type { AttachedPolicyInputs } from './attached-policies.ts';
import type { RateLimitStore } from './ratelimit/store.ts';
import type { BindProblem } from './serving.ts';
import type { RouteTableIR } from './table/ir.ts';
import { WorkerPool } from './workers/pool.ts';
import { ConfigMapRelay, relayedConfigMapKeys, type ConfigMapsMessage } from './workers/configmap-relay.ts';
import { loadPolicyConfigFile } from '../policies/config.ts';
import type { WorkerConfig } from './workers/messages.ts';
import { fileSource } from './sources/files.ts';
import { clusterSource } from './sources/cluster.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import type { InformerFactory } from '../kube/informer-factory.ts';
import { staticSource, type InputSource } from './sources/source.ts';
import type { GatewayApiStatus } from './status/compute-status.ts';
import { GatewayStatusWriter } from './status/writer.ts';
import type { KubeClient } from '../kube/client.ts';
import { KINDS } from '../kube/resources.ts';
import type { ConfigMapCache } from '../policies/bundle-sources.ts';
import type { AttachedPolicyStatus } from './attached-policies.ts';
import { PolicyRuntime } from './policy-runtime.ts';
import { resolvePolicySettings, type PolicySettings, type ProxyPolicyOptions } from './policy-settings.ts';
import { resolveRequestTargetOptions } from './request-target-settings.ts';
import type { RequestTargetOptions } from './runtime/request-target.ts';
import { policyObjectStatuses, type PolicyObjectStatus } from './status/policy-status.ts';

export type { ProxyInputs } from './model/inputs.ts';
export type { RouteTable } from './table/types.ts';
export { compileRouteTable } from './table/compile.ts';
export { materialize } from './table/materialize.ts';
export type { RouteTableIR } from './table/ir.ts';
export { computeStatus } from './status/compute-status.ts';
export type { ProxyPolicyOptions } from './policy-settings.ts';
export { POLICY_ENV, PolicySettingError } from './policy-settings.ts';
export {
  DEFAULT_REQUEST_TARGET_OPTIONS,
  normalizeRequestPath,
  type EscapedSlashesAction,
  type RequestTargetOptions,
  type TargetRefusal,
} from './runtime/request-target.ts';
export {
  REQUEST_TARGET_ENV,
  RequestTargetSettingError,
  resolveRequestTargetOptions,
} from './request-target-settings.ts';

export const ProxySourceError = defineError('TG_PROXY_SOURCE', 'proxy input source %s is not available: %s');
export const ProxyWorkersError = defineError(
  'TG_PROXY_WORKERS',
  'proxy workers: %s cannot be shipped to worker processes; run with workers: 1, or drop %s',
);

export type ProxySourceOption =
  | { kind: 'files'; dir: string }
  | { kind: 'static'; inputs: ProxyInputs }
  | { kind: 'custom'; source: InputSource }
  | {
      kind: 'cluster';
      kubeConfig?: KubeConfig;
      informers?: InformerFactory;
      /** `tenantgate local` only: EndpointSlice addresses to translate (proxy/sources/address-map.ts) */
      endpointAddressMap?: Record<string, string>;
    };

export interface ProxyOptions {
  source: ProxySourceOption;
  /** serve only these Gateways ("namespace/name"); default: every Gateway of our GatewayClasses */
  gateways?: readonly string[];
  /** where Gateways without spec.addresses are served (default 0.0.0.0) */
  bindAddress?: string;
  /** share a process-wide admin server, or give an address for the proxy's own */
  admin?: AdminServer;
  adminAddress?: string;
  controllerName?: string;
  /**
   * RateLimitPolicy and AccessPolicy enforcement (on by default): where counters live, the fail mode, the
   * rate-limit headers, the Gateway limit scope, custom bundles. Unset fields come from the environment
   * (TENANTGATE_RATE_LIMIT_REDIS, ...; see proxy/policy-settings.ts). `false` turns policies off.
   */
  policies?: ProxyPolicyOptions | false;
  /** replaces the built-in policy runtime with a fixed hook (tests) */
  attachPolicies?: AttachPolicies;
  /** replaces the built-in policy runtime: builds the hook from each snapshot's policy objects */
  policiesFor?: (inputs: ProxyInputs) => AttachPolicies;
  accessLog?: { enabled?: boolean; sampleRate?: number; write?: (line: string) => void };
  limits?: Partial<ServerLimits> & { maxBodyBytes?: number };
  /**
   * Request path normalisation: `mergeSlashes` (default true) and `escapedSlashes` (keep | reject |
   * unescape-and-redirect, default reject). Unset fields come from TENANTGATE_MERGE_SLASHES and
   * TENANTGATE_ESCAPED_SLASHES (request-target-settings.ts).
   */
  requestTarget?: Partial<RequestTargetOptions>;
  /**
   * Worker processes serving traffic (default 1: this process serves). With N > 1 this process keeps the
   * input source, the compiler, the status writer and the local rate-limit counters, and N workers share
   * every listening port (proxy/workers/pool.ts).
   */
  workers?: number;
  /** called after every reload (successful or not) — for status writers and tests */
  onReload?: (event: ReloadEvent) => void;
  /**
   * Write the Gateway API status each snapshot implies onto the objects (cluster mode). Several proxy
   * processes may serve one cluster: give `isLeader` so that only one of them writes.
   */
  writeStatus?: {
    client: KubeClient;
    isLeader?: () => boolean;
    /** how often a non-leader checks whether it became the leader, to write what it held back (5 s) */
    leaderCheckMs?: number;
  };
}

export interface ReloadEvent {
  ok: boolean;
  generation: number;
  error?: string;
  warnings: string[];
  /** the Gateway API status the inputs imply (with the policies' route conditions) */
  status?: GatewayApiStatus;
  /** RateLimitPolicy/AccessPolicy status, when the snapshot has policies */
  policyStatus?: AttachedPolicyStatus;
}

export interface RunningProxy {
  /** the table being served (undefined with workers: they hold theirs) */
  readonly table: RouteTable | undefined;
  /** the worker processes' ids (with workers) */
  readonly workerPids: number[];
  /** "address|port" of every listening bind */
  readonly binds: string[];
  readonly adminAddress: string | undefined;
  /** resolves after the next snapshot has been applied */
  nextReload(): Promise<ReloadEvent>;
  stop(): Promise<void>;
}

const log = componentLogger('proxy');

function sourceFor(option: ProxySourceOption): InputSource {
  switch (option.kind) {
    case 'files':
      return fileSource({ dir: option.dir });
    case 'static':
      return staticSource(option.inputs);
    case 'custom':
      return option.source;
    case 'cluster':
      if (!option.kubeConfig && !option.informers)
        throw new ProxySourceError(['cluster', 'give kubeConfig or informers']);
      return clusterSource({
        kubeConfig: option.kubeConfig,
        informers: option.informers,
        ...(option.endpointAddressMap ? { endpointAddressMap: option.endpointAddressMap } : {}),
      });
  }
}

/** Writes only the latest status, one write pass at a time (a burst of snapshots costs one pass). */
class LatestStatusWriter {
  readonly #writer: GatewayStatusWriter;
  readonly #isLeader: () => boolean;
  readonly #runner: LatestWins<StatusOffer>;
  /** the latest status seen while not the leader: written as soon as this process becomes it */
  #parked: StatusOffer | undefined;
  readonly #leaderCheck: NodeJS.Timeout | undefined;

  constructor(o: NonNullable<ProxyOptions['writeStatus']>, controllerName: string) {
    this.#writer = new GatewayStatusWriter({ client: o.client, controllerName });
    this.#isLeader = o.isLeader ?? (() => true);
    this.#runner = new LatestWins((offer) => this.#write(offer), {
      onError: (err) => log.error('status write failed', { err }),
    });
    if (o.isLeader) {
      this.#leaderCheck = setInterval(() => {
        if (this.#parked && this.#isLeader()) this.offer(this.#parked);
      }, o.leaderCheckMs ?? 5_000);
      this.#leaderCheck.unref();
    }
  }

  offer(next: StatusOffer): void {
    this.#parked = undefined;
    this.#runner.offer(next);
  }

  async #write(offer: StatusOffer): Promise<void> {
    if (!this.#isLeader()) {
      this.#parked = offer;
      return;
    }
    const r = await this.#writer.write(offer.status, offer.live(), offer.policies);
    if (r.written)
      log.info('status written', { written: r.written, unchanged: r.unchanged, errors: r.errors.length });
  }

  idle(): Promise<void> {
    return this.#runner.idle();
  }

  async close(): Promise<void> {
    clearInterval(this.#leaderCheck);
    await this.idle();
  }
}

interface StatusOffer {
  status: GatewayApiStatus;
  /** the stored objects to compare with, read at write time (status-only updates are not snapshots) */
  live: () => ProxyInputs;
  policies: readonly PolicyObjectStatus[];
}

/** The built-in policy runtime, unless the caller supplies its own hook or turns policies off. */
function policyRuntimeFor(
  options: ProxyOptions,
  settings: PolicySettings | undefined,
  onRulesChanged: () => void,
): PolicyRuntime | undefined {
  if (!settings || options.policies === false) return undefined;
  const o = options.policies ?? {};
  return new PolicyRuntime({
    settings,
    rateLimitStore: o.rateLimitStore,
    engine: o.engine,
    onRulesChanged,
    configMaps: configMapCacheOf(options),
    logger: log,
  });
}

/** ConfigMap-backed bundles are read through the process's shared informers, when it has them. */
function configMapCacheOf(options: ProxyOptions): (() => Promise<ConfigMapCache>) | undefined {
  const informers = options.source.kind === 'cluster' ? options.source.informers : undefined;
  if (!informers) return undefined;
  return async () => {
    const cache = informers.informer(KINDS.ConfigMap);
    // a ConfigMap that is merely not listed yet must not count as missing
    await cache.waitForSync({ timeoutMs: 60_000 });
    return cache as unknown as ConfigMapCache;
  };
}

/**
 * Workers open no watch: when bundles come from ConfigMaps, the primary relays those ConfigMaps to them
 * (workers/configmap-relay.ts). Undefined when no configured bundle is in a ConfigMap.
 */
function configMapRelayOf(
  options: ProxyOptions,
  settings: PolicySettings | null,
): ((onChange: (m: ConfigMapsMessage) => void) => Promise<ConfigMapRelay>) | undefined {
  const cacheOf = configMapCacheOf(options);
  if (!cacheOf || !settings?.policyConfigPath) return undefined;
  let keys: Set<string>;
  try {
    keys = relayedConfigMapKeys(loadPolicyConfigFile(settings.policyConfigPath).bundles);
  } catch {
    return undefined; // an unreadable configuration is reported (and fails closed) by the policy runtime
  }
  if (keys.size === 0) return undefined;
  return async (onChange) => new ConfigMapRelay(await cacheOf(), keys, onChange);
}

/** Where tables are served: this process (ServingPlane) or its workers (WorkerPool). */
interface ServingTarget {
  apply(
    ir: RouteTableIR,
    attach: AttachPolicies | undefined,
    policyInputs: AttachedPolicyInputs,
  ): Promise<BindProblem[]>;
  readonly loaded: boolean;
  readonly binds: string[];
  readonly table: RouteTable | undefined;
  readonly workerPids: number[];
  close(): Promise<void>;
}

function servingTarget(
  options: ProxyOptions,
  config: WorkerConfig,
  counters: RateLimitStore | undefined,
): ServingTarget {
  const workers = options.workers ?? 1;
  if (workers <= 1) {
    const plane = new ServingPlane({
      ...config.serving,
      accessLog: { ...config.serving.accessLog, write: options.accessLog?.write },
      log,
    });
    return {
      apply: (ir, attach) => plane.apply(ir, attach),
      get loaded() {
        return plane.table !== undefined;
      },
      get binds() {
        return plane.binds;
      },
      get table() {
        return plane.table;
      },
      workerPids: [],
      close: () => plane.close(),
    };
  }
  if (options.attachPolicies || options.policiesFor)
    throw new ProxyWorkersError(['a policy hook (attachPolicies, policiesFor)', 'the hook']);
  if (options.accessLog?.write) throw new ProxyWorkersError(['an access log writer', 'accessLog.write']);
  const configMaps = configMapRelayOf(options, config.policies);
  const pool = new WorkerPool({
    count: workers,
    config: { ...config, relayedConfigMaps: configMaps !== undefined },
    counters: config.policies && !config.policies.rateLimitRedis ? counters : undefined,
    log,
    drainMs: config.serving.limits.drainMs,
    configMaps,
  });
  log.info('proxy workers started', { workers });
  return {
    apply: (ir, _attach, policyInputs) => pool.apply(ir, policyInputs),
    get loaded() {
      return pool.loaded;
    },
    get binds() {
      return pool.binds;
    },
    table: undefined,
    get workerPids() {
      return pool.pids;
    },
    close: () => pool.close(),
  };
}

export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const controllerName = options.controllerName ?? GATEWAY_CONTROLLER_NAME;
  const hooks = options.attachPolicies || options.policiesFor;
  const policySettings =
    options.policies === false || hooks ? undefined : resolvePolicySettings(options.policies ?? {});
  const config: WorkerConfig = {
    serving: {
      accessLog: {
        enabled: options.accessLog?.enabled ?? true,
        sampleRate: options.accessLog?.sampleRate ?? 1,
      },
      maxBodyBytes: options.limits?.maxBodyBytes ?? 64 * 1024 * 1024,
      requestTarget: resolveRequestTargetOptions(options.requestTarget),
      limits: {
        maxHeaderSize: options.limits?.maxHeaderSize ?? 16 * 1024,
        headersTimeoutMs: options.limits?.headersTimeoutMs ?? 10_000,
        keepAliveTimeoutMs: options.limits?.keepAliveTimeoutMs ?? 60_000,
        drainMs: options.limits?.drainMs ?? 10_000,
      },
    },
    policies: policySettings ?? null,
  };
  const statusWriter = options.writeStatus
    ? new LatestStatusWriter(options.writeStatus, controllerName)
    : undefined;
  const stageOptions = {
    controllerName,
    defaultAddress: options.bindAddress ?? '0.0.0.0',
    acceptUnknownClasses: options.source.kind === 'files',
    gateways: options.gateways?.length ? new Set(options.gateways) : undefined,
  };
  let lastInputs: ProxyInputs | undefined;
  const policyRuntime = policyRuntimeFor(options, policySettings, () => {
    // called only after the first snapshot, so the runner below exists by then
    if (lastInputs) reloadRunner.offer(lastInputs);
  });
  const source = sourceFor(options.source);
  const serving = servingTarget(options, config, policyRuntime?.store);
  let generation = 0;
  let ready = false;
  let waiters: ((e: ReloadEvent) => void)[] = [];
  let lastCompaction = 0;
  /** how long the last reload kept this process's event loop busy (compile, and materialise when serving) */
  let blockedMs = 0;

  const reload = async (inputs: ProxyInputs): Promise<void> => {
    let event: ReloadEvent;
    const started = Date.now();
    lastInputs = inputs;
    try {
      // snapshot: load what the snapshot's policies need, build its policy instances
      await policyRuntime?.prepare(inputs);
      const policies = policyRuntime?.compile(inputs);
      const attach = policies?.attach ?? options.policiesFor?.(inputs) ?? options.attachPolicies;
      // analysis
      const analysis = analysisStage(inputs, stageOptions);
      // IR + route status + policy status
      const now = new Date().toISOString();
      const out = irStage(inputs, analysis, {
        ...stageOptions,
        generation: generation + 1,
        now,
        policies,
        attachPolicies: attach,
      });
      // materialise + swap
      const applying = serving.apply(out.ir, attach, policyInputsOf(inputs));
      blockedMs = Date.now() - started;
      const bindErrors = await applying;
      generation = out.ir.generation;
      tableRoutes.set({ kind: 'HTTPRoute' }, out.routes.http);
      tableRoutes.set({ kind: 'GRPCRoute' }, out.routes.grpc);
      reloads.inc({ result: 'ok' });
      for (const w of out.warnings) log.warn('route table', { warning: w });
      for (const e of bindErrors) log.error('listener not served', { bind: e.key, reason: e.message });
      log.info('route table applied', {
        generation,
        binds: out.ir.binds.length,
        httpRoutes: out.routes.http,
        grpcRoutes: out.routes.grpc,
      });
      const { status, policyStatus } = out;
      event = { ok: true, generation, warnings: out.warnings, status, policyStatus };
      statusWriter?.offer({
        status,
        live: () => source.current?.() ?? inputs,
        policies: policyStatus ? policyObjectStatuses(policyStatus) : [],
      });
      // a large compile leaves the heap grown; give it back, but not on every small reload
      if (Date.now() - started >= 50 && Date.now() - lastCompaction >= 60_000) {
        lastCompaction = Date.now();
        compactHeapSoon();
      }
    } catch (err) {
      reloads.inc({ result: 'error' });
      log.error('route table not applied; the last good one keeps serving', { err });
      event = { ok: false, generation, error: (err as Error).message, warnings: [] };
    }
    ready = true;
    options.onReload?.(event);
    const w = waiters;
    waiters = [];
    for (const resolve of w) resolve(event);
  };

  // Compiling blocks the event loop for as long as it takes (a few hundred ms at 10,000 routes): space
  // consecutive reloads by the time the last one blocked it (at most 2 s), so traffic gets at least half
  // the time. Waiting for workers to apply a table blocks nothing here and does not count.
  const reloadRunner = new LatestWins(reload, {
    onError: (err) => log.error('reload failed', { err }),
    spacingMs: () => Math.min(2_000, blockedMs),
  });

  const ownAdmin = options.admin
    ? undefined
    : options.adminAddress
      ? await startAdminServer({ address: options.adminAddress })
      : undefined;
  const admin = options.admin ?? ownAdmin;
  admin?.addReadinessCheck('proxy', () => (ready && serving.loaded) || 'route table not loaded yet');

  const running: RunningProxy = {
    get table() {
      return serving.table;
    },
    get binds() {
      return serving.binds;
    },
    get workerPids() {
      return serving.workerPids;
    },
    adminAddress: admin?.address,
    nextReload: () => new Promise((resolve) => waiters.push(resolve)),
    async stop() {
      await source.stop();
      await reloadRunner.idle();
      await statusWriter?.close();
      await serving.close();
      await policyRuntime?.close();
      await ownAdmin?.close();
    },
  };
  try {
    await policyRuntime?.storeReady();
    await source.start((inputs) => reloadRunner.offer(inputs));
    await reloadRunner.idle();
  } catch (err) {
    await running.stop().catch(() => undefined);
    throw err;
  }
  return running;
}
