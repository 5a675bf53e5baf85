// What this replica's informers know about the objects a count-type limit counts: which exist now (the
// `visible` set, per tenant), and whether a reserved object has been seen — still in the cache, or deleted
// since (remembered by uid for as long as a reservation can live). A reservation seen here no longer
// counts here: the informer speaks for its object, and a deleted object frees its slot at once.
import type { InformerFactory } from '../kube/informer-factory.ts';
import type { Informer } from '../kube/informer.ts';
import type { KubeObject } from '../kube/types.ts';
import type { Inventory } from '../policies/types.ts';
import type { CountView, Reservation } from './quota-ledger.ts';
import { objectKeyOf, type CountLimit } from './quota-limits.ts';

export interface InformerCountsOptions {
  informers: InformerFactory;
  limits: readonly CountLimit[];
  /** how long to remember a deleted object's uid: as long as a reservation lives */
  rememberMs: number;
  now?: () => number;
}

export class InformerCounts {
  readonly #byKind = new Map<string, Informer>();
  /** uid -> when its object was deleted */
  readonly #gone = new Map<string, number>();
  readonly #offs: (() => void)[] = [];
  readonly #rememberMs: number;
  readonly #now: () => number;

  constructor(options: InformerCountsOptions) {
    this.#rememberMs = options.rememberMs;
    this.#now = options.now ?? Date.now;
    for (const limit of options.limits) {
      for (const kind of limit.kinds) {
        if (this.#byKind.has(kind.kind)) continue;
        const informer = options.informers.informer(kind);
        this.#byKind.set(kind.kind, informer);
        this.#offs.push(
          informer.addHandlers({
            onDelete: (obj: KubeObject) => {
              if (obj.metadata?.uid) this.#gone.set(obj.metadata.uid, this.#now());
            },
          }),
        );
      }
    }
  }

  /** The tenant's counted objects for one limit, as this replica sees them now. */
  view(limit: CountLimit, tenant: string, inventory: Inventory): CountView {
    this.#forget();
    const namespaces = tenantNamespaces(tenant, inventory);
    const visible = new Set<string>();
    for (const kind of limit.kinds) {
      const informer = this.#byKind.get(kind.kind);
      if (!informer) continue;
      for (const ns of namespaces) {
        for (const obj of informer.list(ns)) {
          if (obj.metadata?.name && !obj.metadata.deletionTimestamp)
            visible.add(objectKeyOf(kind.kind, ns, obj.metadata.name));
        }
      }
    }
    return { visible, seen: (key, r) => this.seen(key, r) };
  }

  seen(key: string, r: Reservation): boolean {
    if (r.uid && this.#gone.has(r.uid)) return true;
    const [kind, namespace, name] = key.split('/');
    const obj = kind && name ? this.#byKind.get(kind)?.get(name, namespace) : undefined;
    if (!obj) return false;
    // the same name can be an older object (being replaced): only the reserved one settles it
    return !r.uid || obj.metadata?.uid === r.uid;
  }

  stop(): void {
    for (const off of this.#offs.splice(0)) off();
  }

  #forget(): void {
    const before = this.#now() - this.#rememberMs;
    for (const [uid, at] of this.#gone) {
      if (at >= before) break; // insertion order is deletion order
      this.#gone.delete(uid);
    }
  }
}

/** The namespaces the tenant lists and actually holds (the inventory's namespace -> tenant index). */
export function tenantNamespaces(tenant: string, inventory: Inventory): string[] {
  const listed = (inventory.tenants[tenant]?.spec.namespaces as { name?: string }[] | undefined) ?? [];
  return listed
    .map((n) => n.name)
    .filter((n): n is string => !!n && inventory.namespace_tenants[n] === tenant);
}
