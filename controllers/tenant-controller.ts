// The Tenant controller as the operator sets it up (controller-runtime's SetupWithManager): its
// informers and indexes (tenant-informers.ts), the watches that map every change to the Tenants it
// concerns, the work queue with typed keys (tenant-keys.ts), and the reconciler.
//
//   const tenants = setupTenantController({ informers: factory, writes, recorder, logger });
//   tenants.enqueueAll(); tenants.controller.start();   // when leading
//   tenants.removeWatches();                            // when stopping
import type { EventRecorder } from '../kube/events.ts';
import type { InformerHandlers } from '../kube/informer.ts';
import type { InformerFactory } from '../kube/informer-factory.ts';
import type { KindRef } from '../kube/resources.ts';
import type { KubeObject } from '../kube/types.ts';
import type { WriteThrough } from '../kube/write-through.ts';
import type { Logger } from '../lib/logger.ts';
import { Controller } from './controller.ts';
import { OWNER_CLUSTER_ROLE } from './labels.ts';
import { tenantNamesOf } from './ownership.ts';
import {
  Indexes,
  TENANT_CONTROLLER_KINDS,
  tenantInformers,
  type TenantInformers,
} from './tenant-informers.ts';
import { OWNER_ROLE_KEY, tenantKey, tenantWorkKeys, type TenantWorkKey } from './tenant-keys.ts';
import { TenantReconciler } from './tenant-reconciler.ts';

export interface TenantControllerOptions {
  /** the process's shared factory */
  informers: InformerFactory;
  writes: WriteThrough;
  recorder: EventRecorder;
  logger: Logger;
  /** parallel Tenant reconciles */
  concurrency: number;
  /** re-check every Tenant this often */
  resyncPeriodMs: number;
  tenantSelector?: Record<string, string>;
}

export interface TenantController {
  readonly controller: Controller<TenantWorkKey>;
  readonly informers: TenantInformers;
  /** what must be synced before reconciling */
  readonly kinds: readonly KindRef[];
  /** enqueue the owner ClusterRole and every Tenant (on becoming the leader, and on resync()) */
  enqueueAll(): void;
  removeWatches(): void;
}

export function setupTenantController(options: TenantControllerOptions): TenantController {
  const informers = tenantInformers(options.informers);
  const reconciler = new TenantReconciler({
    writes: options.writes,
    informers,
    recorder: options.recorder,
    logger: options.logger,
    tenantSelector: options.tenantSelector,
  });
  const controller = new Controller<TenantWorkKey>({
    name: 'tenant',
    keys: tenantWorkKeys,
    reconcile: (key) => reconciler.reconcile(key),
    concurrency: options.concurrency,
    logger: options.logger,
  });
  const offs = watch(informers, controller, options.resyncPeriodMs);
  return {
    controller,
    informers,
    kinds: TENANT_CONTROLLER_KINDS,
    enqueueAll: () => {
      controller.enqueue(OWNER_ROLE_KEY);
      for (const tenant of informers.tenants.list()) controller.enqueue(tenantKey(tenant.metadata.name));
    },
    removeWatches: () => {
      for (const off of offs.splice(0)) off();
    },
  };
}

/** Informer handlers: every change maps to the keys of the Tenants it concerns. */
function watch(
  inf: TenantInformers,
  controller: Controller<TenantWorkKey>,
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
  const ownerRole = (cr: KubeObject) =>
    cr.metadata?.name === OWNER_CLUSTER_ROLE && controller.enqueue(OWNER_ROLE_KEY);
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
    inf.clusterRoles.addHandlers({ onAdd: ownerRole, onUpdate: ownerRole, onDelete: ownerRole }),
  ];
}
