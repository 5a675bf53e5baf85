// The Tenant reconciler: level-triggered and idempotent. Each pass reads the world from the informer
// caches, computes what the Tenant should have (tenant-desired.ts), and writes only the differences, with
// server-side apply as field manager `tenantgate`; a pass that finds nothing to do makes no API call.
// Every write goes through WriteThrough, so the next pass reads it back from the cache.
//
// A pass, one job per file:
//   finalizer (tenant-finalizer.ts) -> namespaces, with adoption (tenant-namespaces.ts) -> RoleBindings and
//   ReferenceGrants in the namespaces proven to be the Tenant's (tenant-children.ts) -> what is no longer
//   wanted (tenant-stale.ts) -> status (tenant-status-writer.ts) -> Events (tenant-events.ts).
// Its watches and indexes are declared beside it (tenant-controller.ts, tenant-informers.ts).
//
// A slow garbage collector cannot confuse it: what an earlier Tenant of the same name owned (another UID)
// is that Tenant's until the collector deletes it — reported, never touched — and a namespace that is
// terminating is recreated once it is gone (its delete event requeues the Tenant).
import type { EventRecorder } from '../kube/events.ts';
import { needsApply } from '../kube/apply.ts';
import type { KubeObject } from '../kube/types.ts';
import type { WriteThrough } from '../kube/write-through.ts';
import type { Logger } from '../lib/logger.ts';
import type { ReconcileResult } from './controller.ts';
import { OWNER_CLUSTER_ROLE } from './labels.ts';
import { ownerClusterRole } from './owner-role.ts';
import { syncChild } from './tenant-children.ts';
import { desiredChildren, desiredTenant } from './tenant-desired.ts';
import { recordPass } from './tenant-events.ts';
import { ensureFinalizer, finalize } from './tenant-finalizer.ts';
import type { TenantInformers } from './tenant-informers.ts';
import type { TenantWorkKey } from './tenant-keys.ts';
import { syncNamespace } from './tenant-namespaces.ts';
import { newPass, type Pass, type TenantContext } from './tenant-pass.ts';
import { removeStale } from './tenant-stale.ts';
import type { StatusInput } from './tenant-status.ts';
import { reportError, writeStatus } from './tenant-status-writer.ts';
import type { ClusterRole } from './types.ts';

export interface TenantReconcilerOptions {
  /** every write goes through it, so the informers below see it at once */
  writes: WriteThrough;
  informers: TenantInformers;
  recorder: EventRecorder;
  logger: Logger;
  /** reconcile only Tenants with these labels (see OperatorOptions.tenantSelector) */
  tenantSelector?: Record<string, string>;
}

export class TenantReconciler {
  readonly #ctx: TenantContext;
  readonly #selector: [string, string][] | undefined;

  constructor(options: TenantReconcilerOptions) {
    this.#ctx = {
      writes: options.writes,
      informers: options.informers,
      recorder: options.recorder,
      log: options.logger,
    };
    this.#selector = options.tenantSelector ? Object.entries(options.tenantSelector) : undefined;
  }

  /**
   * Whether this process is responsible for an object: with a tenant selector, Tenants carrying its
   * labels, and the objects made for them (which carry the same labels; see #stamp).
   */
  #selects(obj: KubeObject | undefined): boolean {
    return !this.#selector || (!!obj && this.#selector.every(([k, v]) => obj.metadata?.labels?.[k] === v));
  }

  /** With a tenant selector, what we make carries its labels, so that our orphans are recognisably ours. */
  #stamp<T extends KubeObject>(obj: T): T {
    if (!this.#selector) return obj;
    return {
      ...obj,
      metadata: {
        ...obj.metadata,
        labels: { ...Object.fromEntries(this.#selector), ...obj.metadata?.labels },
      },
    };
  }

  async reconcile(key: TenantWorkKey): Promise<ReconcileResult | void> {
    return key.kind === 'Tenant' ? this.reconcileTenant(key.name) : this.reconcileOwnerRole();
  }

  /** The shared ClusterRole every owner RoleBinding refers to. */
  async reconcileOwnerRole(): Promise<void> {
    const desired = ownerClusterRole();
    if (!needsApply(desired, this.#ctx.informers.clusterRoles.get(OWNER_CLUSTER_ROLE))) return;
    await this.#ctx.writes.apply<ClusterRole>(desired);
    this.#ctx.log.info('applied ClusterRole', { name: OWNER_CLUSTER_ROLE });
  }

  async reconcileTenant(name: string): Promise<ReconcileResult | void> {
    const tenant = this.#ctx.informers.tenants.get(name);
    // gone: the garbage collector deletes what it owned
    if (!tenant || !this.#selects(tenant)) return;
    if (tenant.metadata.deletionTimestamp) return finalize(this.#ctx, tenant);
    const pass = newPass(tenant);
    try {
      return await this.#sync(pass);
    } catch (err) {
      await reportError(this.#ctx, pass, err);
      throw err;
    }
  }

  async #sync(pass: Pass): Promise<ReconcileResult | void> {
    const ctx = this.#ctx;
    const { tenant } = pass;
    await ensureFinalizer(ctx, pass);
    const desired = desiredTenant(tenant, (ns, n) => ctx.informers.gateways.get(n, ns));
    const results = await Promise.all(
      [...desired.namespaces.values()].map((want) => syncNamespace(ctx, pass, this.#stamp(want))),
    );
    // what goes inside depends on which namespaces are proven to be the tenant's
    const owned = results.filter((r) => r.owned && !r.terminating).map((r) => r.name);
    const children = new Map(
      [...desiredChildren(tenant, owned)].map(([ns, list]) => [ns, list.map((c) => this.#stamp(c))]),
    );
    await Promise.all(
      [...children.values()].map(async (list) => {
        for (const child of list) await syncChild(ctx, pass, child);
      }),
    );
    await removeStale(ctx, pass, desired, children, results);
    const input: StatusInput = {
      namespaces: results,
      children,
      routes: this.#countRoutes(results.filter((r) => r.ready).map((r) => r.name)),
      gatewayProblems: desired.gatewayProblems,
      progressing: pass.retrySoon.length ? pass.retrySoon.join('; ') : undefined,
    };
    const statusWritten = await writeStatus(ctx, tenant, input);
    recordPass(ctx, pass, input, statusWritten);
    if (pass.retrySoon.length) return { requeueAfterMs: 1_000 };
  }

  #countRoutes(namespaces: string[]): number {
    const { httpRoutes, grpcRoutes } = this.#ctx.informers;
    let n = 0;
    for (const ns of namespaces) n += httpRoutes.list(ns).length + grpcRoutes.list(ns).length;
    return n;
  }
}
