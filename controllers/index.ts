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
import type { Tenant } from '../api/tenant.ts';
import { isAlreadyExists, isForbidden, KubeClient } from '../kube/client.ts';
import { EventRecorder } from '../kube/events.ts';
import type { InformerHandlers } from '../kube/informer.ts';
import { InformerFactory } from '../kube/informer-factory.ts';
import { LeaderElector } from '../kube/lease.ts';
import { KINDS, type KindRef } from '../kube/resources.ts';
import type { KubeObject } from '../kube/types.ts';
import { WriteThrough } from '../kube/write-through.ts';
import type { AdminServer } from '../lib/admin-server.ts';
import { defineError, errorMessage } from '../lib/errors.ts';
import { componentLogger, type Logger } from '../lib/logger.ts';
import { Controller } from './controller.ts';
import { OWNER_CLUSTER_ROLE } from './labels.ts';
import { tenantNamesOf, tenantOwnerRefs } from './ownership.ts';
import {
  CLUSTER_ROLE_KEY,
  Indexes,
  tenantKey,
  TenantReconciler,
  type TenantInformers,
} from './tenant-reconciler.ts';
import type { ClusterRole, Gateway, Namespace, ReferenceGrant, RoleBinding } from './types.ts';
import { operatorNamespace } from '../kube/config.ts';

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

/** The kinds the operator watches (Gateway API CRDs must be installed for it to become ready). */
export const OPERATOR_KINDS: KindRef[] = [
  KINDS.Tenant,
  KINDS.Namespace,
  KINDS.RoleBinding,
  KINDS.ReferenceGrant,
  KINDS.ClusterRole,
  KINDS.Gateway,
  KINDS.HTTPRoute,
  KINDS.GRPCRoute,
];

export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const log = options.logger ?? componentLogger('operator');
  const client =
    options.client ?? new KubeClient({ kubeConfig: options.kubeConfig, userAgent: 'tenantgate-operator' });
  const factory = options.informers ?? new InformerFactory({ client });
  const informers = operatorInformers(factory);
  addIndexes(informers);

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
  const reconciler = new TenantReconciler({ writes, informers, recorder, logger: log, tenantSelector });
  const controller = new Controller({
    name: 'tenant',
    reconcile: (key) => reconciler.reconcile(key),
    concurrency: options.concurrency ?? (Number(process.env.TENANTGATE_OPERATOR_CONCURRENCY) || 4),
    logger: log,
  });
  const enqueueAll = () => enqueueEverything(controller, informers);
  const offs = watchForChanges(
    informers,
    controller,
    options.resyncPeriodMs ?? (Number(process.env.TENANTGATE_RESYNC_PERIOD_MS) || 600_000),
  );
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
    log.info('reconciling', { tenants: informers.tenants.list().length });
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
        for (const off of offs) off();
        await elector?.stop();
        await controller.shutDown();
        await recorder.close();
        if (!options.informers) await factory.stop();
        if (!options.client) await client.close();
      })()),
  };
}

function operatorInformers(factory: InformerFactory): TenantInformers {
  return {
    tenants: factory.informer<Tenant>(KINDS.Tenant),
    namespaces: factory.informer<Namespace>(KINDS.Namespace),
    roleBindings: factory.informer<RoleBinding>(KINDS.RoleBinding),
    referenceGrants: factory.informer<ReferenceGrant>(KINDS.ReferenceGrant),
    clusterRoles: factory.informer<ClusterRole>(KINDS.ClusterRole),
    gateways: factory.informer<Gateway>(KINDS.Gateway),
    httpRoutes: factory.informer<KubeObject>(KINDS.HTTPRoute),
    grpcRoutes: factory.informer<KubeObject>(KINDS.GRPCRoute),
  };
}

function addIndexes(inf: TenantInformers): void {
  const ownerUids = (obj: KubeObject) => tenantOwnerRefs(obj).map((r) => r.uid);
  for (const owned of [inf.namespaces, inf.roleBindings, inf.referenceGrants] as const) {
    owned.addIndex(Indexes.ownerUid, ownerUids);
    owned.addIndex(Indexes.tenantName, tenantNamesOf);
  }
  inf.tenants.addIndex(Indexes.specNamespace, (t) => (t.spec?.namespaces ?? []).map((n) => n.name));
  inf.tenants.addIndex(Indexes.specGateway, (t) =>
    (t.spec?.gateways ?? []).map((g) => `${g.namespace}/${g.name}`),
  );
}

/** Informer handlers: every change maps to the keys of the Tenants it concerns. */
function watchForChanges(
  inf: TenantInformers,
  controller: Controller,
  resyncPeriodMs: number,
): (() => void)[] {
  const enqueueTenants = (names: Iterable<string>) => {
    for (const name of names) controller.enqueue(tenantKey(name));
  };
  const on = <T extends KubeObject>(keys: (obj: T) => Iterable<string>): InformerHandlers<T> => ({
    onAdd: (obj) => enqueueTenants(keys(obj)),
    onUpdate: (obj, old) => {
      enqueueTenants(keys(obj));
      if (old !== obj) enqueueTenants(keys(old));
    },
    onDelete: (obj) => enqueueTenants(keys(obj)),
  });
  const listing = (namespace: string | undefined) =>
    namespace ? inf.tenants.byIndex(Indexes.specNamespace, namespace).map((t) => t.metadata.name) : [];
  return [
    inf.tenants.addHandlers(
      on((t) => [t.metadata.name]),
      { resyncPeriodMs },
    ),
    inf.namespaces.addHandlers(on((ns) => [...tenantNamesOf(ns), ...listing(ns.metadata?.name)])),
    inf.roleBindings.addHandlers(on(tenantNamesOf)),
    inf.referenceGrants.addHandlers(on(tenantNamesOf)),
    inf.gateways.addHandlers(
      on((gw) =>
        inf.tenants
          .byIndex(Indexes.specGateway, `${gw.metadata?.namespace}/${gw.metadata?.name}`)
          .map((t) => t.metadata.name),
      ),
    ),
    inf.httpRoutes.addHandlers(on((r) => listing(r.metadata?.namespace))),
    inf.grpcRoutes.addHandlers(on((r) => listing(r.metadata?.namespace))),
    inf.clusterRoles.addHandlers({
      onAdd: (cr) => cr.metadata?.name === OWNER_CLUSTER_ROLE && controller.enqueue(CLUSTER_ROLE_KEY),
      onUpdate: (cr) => cr.metadata?.name === OWNER_CLUSTER_ROLE && controller.enqueue(CLUSTER_ROLE_KEY),
      onDelete: (cr) => cr.metadata?.name === OWNER_CLUSTER_ROLE && controller.enqueue(CLUSTER_ROLE_KEY),
    }),
  ];
}

function enqueueEverything(controller: Controller, inf: TenantInformers): void {
  controller.enqueue(CLUSTER_ROLE_KEY);
  for (const tenant of inf.tenants.list()) controller.enqueue(tenantKey(tenant.metadata.name));
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
