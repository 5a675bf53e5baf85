// Keeps the engine's data document current: Tenants, Namespaces, HTTPRoutes, GRPCRoutes and Gateways from
// the shared informers, rebuilt into an inventory (policies/inventory.ts) a moment after changes settle.
// The engine gets the new document with setData(): no recompilation, the next review sees it.
import type { Tenant } from '../api/index.ts';
import type { InformerFactory } from '../kube/informer-factory.ts';
import { KINDS } from '../kube/resources.ts';
import { debounce } from '../lib/async.ts';
import { componentLogger, type Logger } from '../lib/logger.ts';
import type { PolicyEngine } from '../policies/engine.ts';
import { buildInventory } from '../policies/inventory.ts';

export const INVENTORY_KINDS = [
  KINDS.Tenant,
  KINDS.Namespace,
  KINDS.HTTPRoute,
  KINDS.GRPCRoute,
  KINDS.Gateway,
];
/** without these no tenant rule can work; the others only sharpen them (a missing CRD is logged) */
const REQUIRED_KINDS = [KINDS.Tenant, KINDS.Namespace];

export interface InventorySyncOptions {
  informers: InformerFactory;
  engine: PolicyEngine;
  /** rebuild this long after the first change of a burst (the rest of the burst joins it); default 50 ms */
  debounceMs?: number;
  /** how long to wait for the first list of each kind; default 60 s */
  syncTimeoutMs?: number;
  logger?: Logger;
}

export interface InventorySync {
  /** resolves once the first inventory is in the engine */
  readonly ready: Promise<void>;
  hasSynced(): boolean;
  /** rebuild now (tests, and after the first sync) */
  rebuild(): void;
  stop(): void;
}

export function startInventorySync(options: InventorySyncOptions): InventorySync {
  const log = options.logger ?? componentLogger('webhook-inventory');
  const informers = INVENTORY_KINDS.map((k) => options.informers.informer(k));
  const [, namespaces, httpRoutes, grpcRoutes, gateways] = informers;
  const tenants = options.informers.informer<Tenant>(KINDS.Tenant); // the same informer, typed
  let synced = false;

  const rebuild = () => {
    scheduled.cancel();
    options.engine.setData(
      buildInventory({
        tenants: tenants.list(),
        namespaces: namespaces!.list(),
        routes: [...httpRoutes!.list(), ...grpcRoutes!.list()],
        gateways: gateways!.list(),
      }),
    );
  };
  // at most one rebuild per debounceMs while changes keep coming: a steady stream of watch events must
  // not postpone the policies' view of them indefinitely
  const debounceMs = options.debounceMs ?? 50;
  const scheduled = debounce(() => rebuild(), debounceMs, { maxWaitMs: debounceMs });
  const schedule = () => {
    if (synced) scheduled();
  };
  const offs = informers.map((i) =>
    i.addHandlers({ onAdd: schedule, onUpdate: (obj, old) => obj !== old && schedule(), onDelete: schedule }),
  );

  const timeoutMs = options.syncTimeoutMs ?? 60_000;
  const ready = (async () => {
    await options.informers.waitForSync(REQUIRED_KINDS, { timeoutMs });
    const optional = INVENTORY_KINDS.filter((k) => !REQUIRED_KINDS.includes(k));
    await options.informers.waitForSync(optional, { timeoutMs }).catch((err: unknown) => {
      log.warn('some kinds are not synced; policies that read them see none yet', {
        pending: options.informers.pending(),
        err: String(err),
      });
    });
    synced = true;
    rebuild();
  })();

  return {
    ready,
    hasSynced: () => synced,
    rebuild,
    stop: () => {
      scheduled.cancel();
      for (const off of offs) off();
    },
  };
}
