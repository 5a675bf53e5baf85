// The embedded Gateway API proxy: `startProxy(options)` wires an input source (files, a fixed snapshot,
// or — once kube/ provides informers — the cluster) to the pure route-table compiler, the listening
// servers and the pooled upstreams. Every snapshot compiles into a new immutable table that is swapped in
// at once; a snapshot that cannot be compiled leaves the last good table serving.
import { startAdminServer, type AdminServer } from '../lib/admin-server.ts';
import { defineError } from '../lib/errors.ts';
import { componentLogger } from '../lib/logger.ts';
import { GATEWAY_CONTROLLER_NAME } from '../api/common.ts';
import { compileRouteTable, type CompileResult } from './table/compile.ts';
import type { RouteTable } from './table/types.ts';
import type { ProxyInputs } from './model/inputs.ts';
import type { AttachPolicies } from './request-policy.ts';
import { AccessLog } from './runtime/access-log.ts';
import { reloads, tableGeneration, tableRoutes } from './runtime/metrics.ts';
import { ServerSet, type ServerLimits } from './runtime/servers.ts';
import { UpstreamRegistry } from './runtime/upstreams.ts';
import { compactHeapSoon } from './runtime/heap.ts';
import { Reloader } from './runtime/reloader.ts';
import { fileSource } from './sources/files.ts';
import { clusterSource } from './sources/cluster.ts';
import type { KubeConfig } from '@kubernetes/client-node';
import type { InformerFactory } from '../kube/informer-factory.ts';
import { staticSource, type InputSource } from './sources/source.ts';
import { computeStatus, type GatewayApiStatus } from './status/compute-status.ts';
import { GatewayStatusWriter } from './status/writer.ts';
import type { KubeClient } from '../kube/client.ts';
import { KINDS } from '../kube/resources.ts';
import type { ConfigMapCache } from '../policies/bundle-sources.ts';
import type { AttachedPolicies, AttachedPolicyStatus } from './attached-policies.ts';
import { PolicyRuntime } from './policy-runtime.ts';
import { resolvePolicySettings, type ProxyPolicyOptions } from './policy-settings.ts';
import { resolveRequestTargetOptions } from './request-target-settings.ts';
import type { RequestTargetOptions } from './runtime/request-target.ts';
import {
  policyObjectStatuses,
  withPolicyRouteConditions,
  type PolicyObjectStatus,
} from './status/policy-status.ts';

export type { ProxyInputs } from './model/inputs.ts';
export type { RouteTable } from './table/types.ts';
export { compileRouteTable } from './table/compile.ts';
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
  /** the table being served */
  readonly table: RouteTable | undefined;
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

function countRoutes(result: CompileResult): { http: number; grpc: number } {
  const attached = result.analysis.routes.filter((r) => r.parents.some((p) => p.accepted.status === 'True'));
  return {
    http: attached.filter((r) => r.kind === 'HTTPRoute').length,
    grpc: attached.filter((r) => r.kind === 'GRPCRoute').length,
  };
}

/** Writes only the latest status, one write pass at a time (a burst of snapshots costs one pass). */
class LatestStatusWriter {
  readonly #writer: GatewayStatusWriter;
  readonly #isLeader: () => boolean;
  #pending: StatusOffer | undefined;
  /** the latest status seen while not the leader: written as soon as this process becomes it */
  #parked: StatusOffer | undefined;
  #running: Promise<void> | undefined;
  readonly #leaderCheck: NodeJS.Timeout | undefined;

  constructor(o: NonNullable<ProxyOptions['writeStatus']>, controllerName: string) {
    this.#writer = new GatewayStatusWriter({ client: o.client, controllerName });
    this.#isLeader = o.isLeader ?? (() => true);
    if (o.isLeader) {
      this.#leaderCheck = setInterval(() => {
        if (this.#parked && this.#isLeader()) this.offer(this.#parked);
      }, o.leaderCheckMs ?? 5_000);
      this.#leaderCheck.unref();
    }
  }

  offer(next: StatusOffer): void {
    this.#pending = next;
    this.#parked = undefined;
    this.#running ??= this.#drain().finally(() => (this.#running = undefined));
  }

  async #drain(): Promise<void> {
    while (this.#pending) {
      const offer = this.#pending;
      this.#pending = undefined;
      if (!this.#isLeader()) {
        this.#parked = offer;
        continue;
      }
      const r = await this.#writer.write(offer.status, offer.inputs, offer.policies);
      if (r.written)
        log.info('status written', { written: r.written, unchanged: r.unchanged, errors: r.errors.length });
    }
  }

  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  async close(): Promise<void> {
    clearInterval(this.#leaderCheck);
    await this.idle();
  }
}

interface StatusOffer {
  status: GatewayApiStatus;
  inputs: ProxyInputs;
  policies: readonly PolicyObjectStatus[];
}

/** The built-in policy runtime, unless the caller supplies its own hook or turns policies off. */
function policyRuntimeFor(options: ProxyOptions, onRulesChanged: () => void): PolicyRuntime | undefined {
  if (options.policies === false || options.attachPolicies || options.policiesFor) return undefined;
  const o = options.policies ?? {};
  const informers = options.source.kind === 'cluster' ? options.source.informers : undefined;
  return new PolicyRuntime({
    settings: resolvePolicySettings(o),
    rateLimitStore: o.rateLimitStore,
    engine: o.engine,
    onRulesChanged,
    // ConfigMap-backed bundles read through the process's shared informers
    configMaps: informers
      ? async () => {
          const cache = informers.informer(KINDS.ConfigMap);
          // a ConfigMap that is merely not listed yet must not count as missing
          await cache.waitForSync({ timeoutMs: 60_000 });
          return cache as unknown as ConfigMapCache;
        }
      : undefined,
    logger: log,
  });
}

const hasPolicies = (inputs: ProxyInputs): boolean =>
  inputs.rateLimitPolicies.length > 0 || inputs.accessPolicies.length > 0;

function policyStatusOf(
  policies: AttachedPolicies,
  result: CompileResult,
  inputs: ProxyInputs,
  at: { now: string; controllerName: string },
): AttachedPolicyStatus {
  return policies.status({
    controllerName: at.controllerName,
    gateways: result.analysis.gateways.map((g) => g.gateway),
    httpRoutes: inputs.httpRoutes,
    grpcRoutes: inputs.grpcRoutes,
    now: at.now,
  });
}

export async function startProxy(options: ProxyOptions): Promise<RunningProxy> {
  const controllerName = options.controllerName ?? GATEWAY_CONTROLLER_NAME;
  const upstreams = new UpstreamRegistry();
  const deps = {
    upstreams,
    accessLog: new AccessLog({
      enabled: options.accessLog?.enabled ?? true,
      sampleRate: options.accessLog?.sampleRate ?? 1,
      write: options.accessLog?.write,
    }),
    maxBodyBytes: options.limits?.maxBodyBytes ?? 64 * 1024 * 1024,
    log,
    requestTarget: resolveRequestTargetOptions(options.requestTarget),
  };
  const servers = new ServerSet(deps, {
    maxHeaderSize: options.limits?.maxHeaderSize ?? 16 * 1024,
    headersTimeoutMs: options.limits?.headersTimeoutMs ?? 10_000,
    keepAliveTimeoutMs: options.limits?.keepAliveTimeoutMs ?? 60_000,
    drainMs: options.limits?.drainMs ?? 10_000,
  });
  const statusWriter = options.writeStatus
    ? new LatestStatusWriter(options.writeStatus, controllerName)
    : undefined;
  const gatewayFilter = options.gateways?.length ? new Set(options.gateways) : undefined;
  let lastInputs: ProxyInputs | undefined;
  const policyRuntime = policyRuntimeFor(options, () => {
    // called only after the first snapshot, so the reloader below exists by then
    if (lastInputs) reloader.offer(lastInputs);
  });
  const source = sourceFor(options.source);
  let table: RouteTable | undefined;
  let generation = 0;
  let ready = false;
  let waiters: ((e: ReloadEvent) => void)[] = [];
  let lastCompaction = 0;

  const apply = async (inputs: ProxyInputs): Promise<void> => {
    let event: ReloadEvent;
    const started = Date.now();
    lastInputs = inputs;
    try {
      await policyRuntime?.prepare(inputs);
      const policies = policyRuntime?.compile(inputs);
      const result = compileRouteTable(inputs, {
        controllerName,
        defaultAddress: options.bindAddress ?? '0.0.0.0',
        acceptUnknownClasses: options.source.kind === 'files',
        gateways: gatewayFilter,
        attachPolicies: policies?.attach ?? options.policiesFor?.(inputs) ?? options.attachPolicies,
        generation: generation + 1,
      });
      await servers.apply(result.table);
      table = result.table;
      generation = result.table.generation;
      upstreams.retain(result.table.upstreamKeys);
      const counts = countRoutes(result);
      tableRoutes.set({ kind: 'HTTPRoute' }, counts.http);
      tableRoutes.set({ kind: 'GRPCRoute' }, counts.grpc);
      tableGeneration.set(generation);
      reloads.inc({ result: 'ok' });
      for (const w of result.warnings) log.warn('route table', { warning: w });
      for (const e of servers.errors) log.error('listener not served', { bind: e.key, reason: e.message });
      log.info('route table applied', {
        generation,
        binds: result.table.binds.size,
        httpRoutes: counts.http,
        grpcRoutes: counts.grpc,
      });
      const now = new Date().toISOString();
      const policyStatus =
        policies && hasPolicies(inputs)
          ? policyStatusOf(policies, result, inputs, { now, controllerName })
          : undefined;
      let status = computeStatus(result.analysis, { controllerName, now });
      if (policyStatus) status = withPolicyRouteConditions(status, policyStatus, controllerName);
      event = { ok: true, generation, warnings: result.warnings, status, policyStatus };
      if (statusWriter)
        statusWriter.offer({
          status,
          inputs,
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

  const reloader = new Reloader(apply);

  const ownAdmin = options.admin
    ? undefined
    : options.adminAddress
      ? await startAdminServer({ address: options.adminAddress })
      : undefined;
  const admin = options.admin ?? ownAdmin;
  admin?.addReadinessCheck('proxy', () => (ready && table !== undefined) || 'route table not loaded yet');

  const running: RunningProxy = {
    get table() {
      return table;
    },
    get binds() {
      return servers.keys;
    },
    adminAddress: admin?.address,
    nextReload: () => new Promise((resolve) => waiters.push(resolve)),
    async stop() {
      await source.stop();
      await reloader.idle();
      await statusWriter?.close();
      await servers.close();
      await upstreams.close();
      await policyRuntime?.close();
      await ownAdmin?.close();
    },
  };
  try {
    await policyRuntime?.storeReady();
    await source.start((inputs) => reloader.offer(inputs));
    await reloader.idle();
  } catch (err) {
    await running.stop().catch(() => undefined);
    throw err;
  }
  return running;
}
