// The operator: informers -> work queue -> Tenant reconciler, run by whichever replica holds the Lease.
//
//   const operator = await startOperator({ kubeConfig, admin });   // admin: adds the /readyz check
//   ...
//   await operator.stop();   // graceful: finishes in-flight reconciles, flushes Events, releases the Lease
//
// Every replica keeps its informer caches warm; only the leader runs workers, so a standby that takes
// over starts reconciling at once. On becoming the leader it enqueues every Tenant and the shared
// ClusterRole. What a deleted Tenant owned is the garbage collector's to delete (owner references).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { isAlreadyExists, isForbidden, KubeClient } from '../kube/client.ts';
import { operatorNamespace } from '../kube/config.ts';
import { EventRecorder } from '../kube/events.ts';
import { InformerFactory } from '../kube/informer-factory.ts';
import { LeaderElector } from '../kube/lease.ts';
import { KINDS, type KindRef } from '../kube/resources.ts';
import { WriteThrough } from '../kube/write-through.ts';
import type { AdminServer } from '../lib/admin-server.ts';
import { defineError, errorMessage } from '../lib/errors.ts';
import { componentLogger, type Logger } from '../lib/logger.ts';
import { setupTenantController } from './tenant-controller.ts';
import { TENANT_CONTROLLER_KINDS } from './tenant-informers.ts';

export const InvalidSelectorError = defineError(
  'TG_OPERATOR_SELECTOR',
  "invalid tenant selector term '%s' in '%s': expected key=value[,key=value...]",
);

export interface LeaderElectionConfig {
  /** namespace of the Lease; default $TENANTGATE_NAMESPACE, $POD_NAMESPACE or tenantgate-system (created if missing) */
  namespace?: string;
  /** default tenantgate-operator */
  name?: string;
  /** default $TENANTGATE_OPERATOR_IDENTITY or "<hostname>_<random>"; also the Events' reportingInstance */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  /** share the process's client; default: a new one (closed on stop) */
  client?: KubeClient;
  /** share the process's informers (one watch per kind); default: a new factory (stopped on stop) */
  informers?: InformerFactory;
  /** adds an "operator" readiness check */
  admin?: AdminServer;
  /** parallel Tenant reconciles; default $TENANTGATE_OPERATOR_CONCURRENCY or 4 */
  concurrency?: number;
  /** re-check every Tenant this often, with no API calls unless something drifted; default
   *  $TENANTGATE_RESYNC_PERIOD_MS or 10 min */
  resyncPeriodMs?: number;
  /** false: reconcile without a Lease (a single replica, tests); default: elect on a Lease */
  leaderElection?: LeaderElectionConfig | false;
  /**
   * Only Tenants whose labels include all of these (sharding, canaries, tests sharing a cluster); what is
   * made for them carries the same labels. Default: $TENANTGATE_TENANT_SELECTOR ("k=v,k2=v2"), else all.
   */
  tenantSelector?: Record<string, string>;
  logger?: Logger;
}

export interface RunningOperator {
  readonly identity: string;
  isLeader(): boolean;
  /** informers synced */
  hasSynced(): boolean;
  /** enqueue every Tenant now (what the periodic resync does) */
  resync(): void;
  stop(): Promise<void>;
}

/** The kinds the operator watches: its controllers' (Gateway API CRDs must be installed to be ready). */
export const OPERATOR_KINDS: KindRef[] = [...TENANT_CONTROLLER_KINDS];

export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const log = options.logger ?? componentLogger('operator');
  const client =
    options.client ?? new KubeClient({ kubeConfig: options.kubeConfig, userAgent: 'tenantgate-operator' });
  const factory = options.informers ?? new InformerFactory({ client });

  const le = options.leaderElection === false ? undefined : (options.leaderElection ?? {});
  const identity =
    le?.identity ??
    process.env.TENANTGATE_OPERATOR_IDENTITY ??
    `${os.hostname()}_${randomBytes(4).toString('hex')}`;
  const tenantSelector = options.tenantSelector ?? parseSelector(process.env.TENANTGATE_TENANT_SELECTOR);
  const recorder = new EventRecorder({
    client,
    reportingController: 'tenantgate.io/operator',
    reportingInstance: identity,
    logger: log,
  });
  // one writer for the process's informers: what a pass writes, the next pass reads back from the cache
  const writes = new WriteThrough({ client, informers: factory });
  const tenants = setupTenantController({
    informers: factory,
    writes,
    recorder,
    logger: log,
    tenantSelector,
    concurrency: options.concurrency ?? (Number(process.env.TENANTGATE_OPERATOR_CONCURRENCY) || 4),
    resyncPeriodMs: options.resyncPeriodMs ?? (Number(process.env.TENANTGATE_RESYNC_PERIOD_MS) || 600_000),
  });
  const { controller } = tenants;
  const enqueueAll = () => tenants.enqueueAll();
  factory.start();
  options.admin?.addReadinessCheck(
    'operator',
    () => factory.hasSynced(OPERATOR_KINDS) || `waiting for caches: ${factory.pending().join('; ')}`,
  );

  const lead = async (signal: AbortSignal) => {
    try {
      await factory.waitForSync(OPERATOR_KINDS, { signal });
    } catch {
      return; // stopped leading before the caches were ready
    }
    enqueueAll();
    controller.start();
    log.info('reconciling', { tenants: tenants.informers.tenants.list().length });
  };

  let elector: LeaderElector | undefined;
  if (le) {
    const namespace = le.namespace ?? operatorNamespace();
    await ensureNamespace(writes, namespace, log);
    elector = new LeaderElector({
      client,
      namespace,
      name: le.name ?? 'tenantgate-operator',
      identity,
      leaseDurationMs: le.leaseDurationMs,
      renewDeadlineMs: le.renewDeadlineMs,
      retryPeriodMs: le.retryPeriodMs,
      onStartedLeading: lead,
      onStoppedLeading: () => controller.stopWorkers(),
      onNewLeader: (id) => log.info('leader', { identity: id }),
      logger: log,
    });
    elector.start();
  } else {
    void lead(new AbortController().signal);
  }

  let stopping: Promise<void> | undefined;
  return {
    identity,
    isLeader: () => (elector ? elector.isLeader() : true),
    hasSynced: () => factory.hasSynced(OPERATOR_KINDS),
    resync: enqueueAll,
    stop: () =>
      (stopping ??= (async () => {
        log.info('stopping the operator');
        tenants.removeWatches();
        await elector?.stop();
        await controller.shutDown();
        await recorder.close();
        if (!options.informers) await factory.stop();
        if (!options.client) await client.close();
      })()),
  };
}

/** "k=v,k2=v2" -> { k: 'v', k2: 'v2' }; equality only. */
export function parseSelector(text: string | undefined): Record<string, string> | undefined {
  if (!text?.trim()) return undefined;
  const out: Record<string, string> = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([^=!\s]+)=([^=\s]*)$/.exec(part);
    if (!m) throw new InvalidSelectorError([part, text]);
    out[m[1]!] = m[2]!;
  }
  return out;
}

async function ensureNamespace(writes: WriteThrough, name: string, log: Logger): Promise<void> {
  try {
    if (await writes.client.get(KINDS.Namespace, { name })) return;
    await writes.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    log.info('created the namespace for the leader Lease', { namespace: name });
  } catch (err) {
    if (isAlreadyExists(err)) return;
    // not fatal: the Lease requests will say what is wrong, and retry
    log.warn('cannot ensure the Lease namespace', {
      namespace: name,
      error: errorMessage(err),
      forbidden: isForbidden(err),
    });
  }
}
