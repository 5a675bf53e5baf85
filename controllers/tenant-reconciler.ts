// The Tenant reconciler: level-triggered and idempotent. Each pass reads the world from the informer
// caches, computes what the Tenant should have (tenant-desired.ts), and writes only the differences, with
// server-side apply as field manager `tenantgate`; a pass that finds nothing to do makes no API call.
//
// Safety rules:
// - A namespace is the Tenant's only if it has an owner reference to the Tenant's UID. A namespace that
//   exists without one is a conflict (Ready=False, reason NamespaceConflict, message naming the owner) and
//   is never touched — unless a platform admin handed it over with the annotation tenantgate.io/adopt-by:
//   <tenant> (and it is no Tenant's): then it is adopted, labelled and owned as if the Tenant had made it,
//   the annotation removed, an Adopted Event recorded. New namespaces are made with POST (not apply, which would merge into a namespace
//   someone created a moment ago), updates carry the resourceVersion we checked ownership on.
// - RoleBindings and ReferenceGrants are only written inside namespaces the Tenant owns.
// - namespaceDeletionPolicy Retain (default) releases a namespace (tenant label, the labels tenantgate
//   set, owner reference removed; the Tenant's RoleBindings/ReferenceGrants in it deleted); Delete
//   deletes it. While the policy is Retain the Tenant carries a finalizer so that the release happens
//   before the Tenant goes: after it, the garbage collector deletes whatever still has an owner reference
//   to the Tenant (that is how a deleted Tenant's namespaces, RoleBindings and ReferenceGrants go with
//   namespaceDeletionPolicy Delete).
// - A slow garbage collector cannot confuse it: what an earlier Tenant of the same name owned (another
//   UID) is that Tenant's until the collector deletes it — reported, never touched — and a namespace
//   that is terminating is recreated once it is gone (its delete event requeues the Tenant).
import type { Tenant } from '../api/tenant.ts';
import { contains, needsApply, ownedMetadata } from '../kube/apply.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../kube/client.ts';
import type { EventRecorder } from '../kube/events.ts';
import type { Informer } from '../kube/informer.ts';
import { KINDS } from '../kube/resources.ts';
import type { KubeObject } from '../kube/types.ts';
import type { WriteThrough } from '../kube/write-through.ts';
import { errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import type { ReconcileResult } from './controller.ts';
import { ADOPT_ANNOTATION, OWNER_CLUSTER_ROLE, RELEASE_FINALIZER, TENANT_LABEL } from './labels.ts';
import { ownerClusterRole } from './owner-role.ts';
import { adoptableBy, describeForeignNamespace, isOwnedBy } from './ownership.ts';
import {
  desiredChildren,
  desiredTenant,
  type DesiredTenant,
  type NamespacedChild,
} from './tenant-desired.ts';
import { desiredStatus, statusChanged, type NamespaceResult, type StatusInput } from './tenant-status.ts';
import type { ClusterRole, Gateway, Namespace, ReferenceGrant, RoleBinding } from './types.ts';

export const CLUSTER_ROLE_KEY = 'clusterrole';
export const tenantKey = (name: string) => `tenant/${name}`;

/** Index names the reconciler needs on the informers (added by the operator, see index.ts). */
export const Indexes = {
  /** Namespaces, RoleBindings, ReferenceGrants: UIDs of owning Tenants */
  ownerUid: 'tenantgate:owner-uid',
  /** Namespaces, RoleBindings, ReferenceGrants: names of Tenants by owner reference or label */
  tenantName: 'tenantgate:tenant-name',
  /** Tenants: the namespaces they list */
  specNamespace: 'tenantgate:spec-namespace',
  /** Tenants: "ns/name" of the Gateways they list */
  specGateway: 'tenantgate:spec-gateway',
} as const;

export interface TenantInformers {
  tenants: Informer<Tenant>;
  namespaces: Informer<Namespace>;
  roleBindings: Informer<RoleBinding>;
  referenceGrants: Informer<ReferenceGrant>;
  clusterRoles: Informer<ClusterRole>;
  gateways: Informer<Gateway>;
  httpRoutes: Informer<KubeObject>;
  grpcRoutes: Informer<KubeObject>;
}

export interface TenantReconcilerOptions {
  /** every write goes through it, so the informers below see it at once */
  writes: WriteThrough;
  informers: TenantInformers;
  recorder: EventRecorder;
  logger: Logger;
  /** reconcile only Tenants with these labels (see OperatorOptions.tenantSelector) */
  tenantSelector?: Record<string, string>;
}

/** What one pass did, for Events and the log. */
interface Pass {
  tenant: Tenant;
  uid: string;
  created: string[];
  updated: string[];
  removed: string[];
  /** existing namespaces handed over by the adopt-by annotation and now owned */
  adopted: string[];
  retrySoon: string[];
}

type Child = NamespacedChild;

export class TenantReconciler {
  readonly #writes: WriteThrough;
  readonly #inf: TenantInformers;
  readonly #recorder: EventRecorder;
  readonly #log: Logger;
  readonly #selector: [string, string][] | undefined;

  constructor(options: TenantReconcilerOptions) {
    this.#writes = options.writes;
    this.#inf = options.informers;
    this.#recorder = options.recorder;
    this.#log = options.logger;
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

  async reconcile(key: string): Promise<ReconcileResult | void> {
    if (key === CLUSTER_ROLE_KEY) return this.reconcileOwnerRole();
    if (key.startsWith('tenant/')) return this.reconcileTenant(key.slice('tenant/'.length));
    this.#log.warn('ignoring an unknown work-queue key', { key });
  }

  /** The shared ClusterRole every owner RoleBinding refers to. */
  async reconcileOwnerRole(): Promise<void> {
    const desired = ownerClusterRole();
    if (!needsApply(desired, this.#inf.clusterRoles.get(OWNER_CLUSTER_ROLE))) return;
    await this.#writes.apply<ClusterRole>(desired);
    this.#log.info('applied ClusterRole', { name: OWNER_CLUSTER_ROLE });
  }

  async reconcileTenant(name: string): Promise<ReconcileResult | void> {
    const tenant = this.#inf.tenants.get(name);
    // gone: the garbage collector deletes what it owned
    if (!tenant || !this.#selects(tenant)) return;
    if (tenant.metadata.deletionTimestamp) return this.#finalize(tenant);
    const pass: Pass = {
      tenant,
      uid: tenant.metadata.uid!,
      created: [],
      updated: [],
      removed: [],
      adopted: [],
      retrySoon: [],
    };
    try {
      return await this.#sync(pass);
    } catch (err) {
      await this.#reportError(pass, err);
      throw err;
    }
  }

  // ---- the main pass -------------------------------------------------------------------------------

  async #sync(pass: Pass): Promise<ReconcileResult | void> {
    const { tenant } = pass;
    await this.#ensureFinalizer(pass);
    const desired = desiredTenant(tenant, (ns, n) => this.#inf.gateways.get(n, ns));
    const results = await Promise.all(
      [...desired.namespaces.keys()].map((ns) => this.#syncNamespace(pass, desired, ns)),
    );
    // what goes inside depends on which namespaces are proven to be the tenant's
    const owned = results.filter((r) => r.owned && !r.terminating).map((r) => r.name);
    const children = new Map(
      [...desiredChildren(tenant, owned)].map(([ns, list]) => [ns, list.map((c) => this.#stamp(c))]),
    );
    await Promise.all(
      [...children.values()].map(async (list) => {
        for (const child of list) await this.#syncChild(pass, child);
      }),
    );
    await this.#removeStale(pass, desired, children, results);
    const input: StatusInput = {
      namespaces: results,
      children,
      routes: this.#countRoutes(results.filter((r) => r.ready).map((r) => r.name)),
      gatewayProblems: desired.gatewayProblems,
      progressing: pass.retrySoon.length ? pass.retrySoon.join('; ') : undefined,
    };
    const statusWritten = await this.#writeStatus(tenant, input);
    this.#emitEvents(pass, input, statusWritten);
    if (pass.retrySoon.length) return { requeueAfterMs: 1_000 };
  }

  async #syncNamespace(pass: Pass, desired: DesiredTenant, name: string): Promise<NamespaceResult> {
    const want = this.#stamp(desired.namespaces.get(name)!);
    const actual = this.#inf.namespaces.get(name);
    if (!actual) {
      try {
        await this.#writes.create<Namespace>(want);
        pass.created.push(`Namespace ${name}`);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        // made by someone else a moment ago; the next pass (on its watch event) decides whose it is
        pass.retrySoon.push(`namespace ${name} appeared while being created; checking its owner`);
        return { name, ready: false, message: 'namespace is being created' };
      }
    } else if (!isOwnedBy(actual, pass.uid)) {
      if (!adoptableBy(actual, pass.tenant))
        return { name, ready: false, conflict: true, message: describeForeignNamespace(actual, pass.tenant) };
      try {
        await this.#writes.mergePatch<Namespace>(want, adoptionPatch(want, actual, pass.uid));
        pass.adopted.push(name);
      } catch (err) {
        if (!isConflict(err)) throw err;
        // changed since we checked it was unowned and handed to us: the next pass looks again
        pass.retrySoon.push(`namespace ${name} changed while being adopted`);
        return { name, ready: false, message: 'namespace is being adopted' };
      }
    } else if (actual.metadata?.deletionTimestamp) {
      return {
        name,
        ready: false,
        owned: true,
        terminating: true,
        message: 'namespace is terminating; it will be recreated once it is gone',
      };
    } else {
      const patch = namespacePatch(want, actual, pass.uid);
      if (patch) {
        try {
          await this.#writes.mergePatch<Namespace>(want, patch);
          pass.updated.push(`labels of Namespace ${name}`);
        } catch (err) {
          if (!isConflict(err)) throw err;
          // still ours (checked on the cached version): carry on with its contents, redo the labels soon
          pass.retrySoon.push(`namespace ${name} changed while being updated`);
        }
      }
    }
    return { name, ready: true, owned: true };
  }

  async #syncChild(pass: Pass, want: Child): Promise<void> {
    const informer = this.#childInformer(want);
    const { name, namespace } = want.metadata;
    let actual = informer.get(name, namespace) as Child | undefined;
    const label = `${want.kind} ${namespace}/${name}`;
    if (actual && want.kind === 'RoleBinding' && !sameRoleRef(actual as RoleBinding, want as RoleBinding)) {
      // roleRef is immutable: replace the binding
      await this.#writes.delete(actual, { preconditions: { uid: actual.metadata?.uid } });
      actual = undefined;
    }
    if (!needsApply(want, actual)) return;
    await this.#writes.apply<Child>(want);
    (actual ? pass.updated : pass.created).push(label);
  }

  /** Releases or deletes what the Tenant owns but no longer wants. */
  async #removeStale(
    pass: Pass,
    desired: DesiredTenant,
    children: Map<string, Child[]>,
    results: NamespaceResult[],
  ): Promise<void> {
    // children are wanted only in namespaces proven to be the tenant's; grants left in a namespace whose
    // ownership was lost (someone removed the owner reference) are withdrawn
    const wanted = new Set<string>();
    for (const [ns, list] of children) for (const c of list) wanted.add(`${c.kind}/${ns}/${c.metadata.name}`);
    const terminating = new Set(results.filter((r) => r.terminating).map((r) => r.name));
    for (const child of this.#ownedChildren(pass.uid)) {
      const ns = child.metadata?.namespace ?? '';
      if (terminating.has(ns) || wanted.has(`${child.kind}/${ns}/${child.metadata?.name}`)) continue;
      await this.#deleteChild(child);
      pass.removed.push(`${child.kind} ${ns}/${child.metadata?.name}`);
    }
    const policy = pass.tenant.spec.namespaceDeletionPolicy ?? 'Retain';
    for (const ns of this.#inf.namespaces.byIndex(Indexes.ownerUid, pass.uid)) {
      const name = ns.metadata!.name!;
      if (desired.namespaces.has(name)) continue;
      try {
        pass.removed.push(await this.#removeNamespace(ns, pass.uid, policy));
      } catch (err) {
        if (!isConflict(err)) throw err;
        pass.retrySoon.push(`namespace ${name} changed while being released`);
      }
    }
  }

  // ---- deletion --------------------------------------------------------------------------------------

  async #finalize(tenant: Tenant): Promise<ReconcileResult | void> {
    const uid = tenant.metadata.uid!;
    const policy = tenant.spec.namespaceDeletionPolicy ?? 'Retain';
    const done: string[] = [];
    for (const child of this.#ownedChildren(uid)) {
      await this.#deleteChild(child);
      done.push(`${child.kind} ${child.metadata?.namespace}/${child.metadata?.name}`);
    }
    for (const ns of this.#inf.namespaces.byIndex(Indexes.ownerUid, uid))
      done.push(await this.#removeNamespace(ns, uid, policy));
    if (done.length) {
      this.#recorder.record(tenant, {
        type: 'Normal',
        reason: 'Deleting',
        action: 'Delete',
        note: `Tenant deleted (namespaceDeletionPolicy ${policy}): ${summarize(done)}`,
      });
    }
    const finalizers = tenant.metadata.finalizers ?? [];
    if (!finalizers.includes(RELEASE_FINALIZER)) return;
    const rest = finalizers.filter((f) => f !== RELEASE_FINALIZER);
    try {
      await this.#writes.mergePatch<Tenant>(tenantRef(tenant), {
        metadata: { resourceVersion: tenant.metadata.resourceVersion, finalizers: rest.length ? rest : null },
      });
    } catch (err) {
      if (isNotFound(err)) return;
      if (isConflict(err)) return { requeueAfterMs: 500 };
      throw err;
    }
    this.#log.info('tenant finalized', { tenant: tenant.metadata.name, policy });
  }

  /** Releases (Retain) or deletes (Delete) a namespace the Tenant owns; returns what it did. */
  async #removeNamespace(ns: Namespace, uid: string, policy: 'Retain' | 'Delete'): Promise<string> {
    const name = ns.metadata!.name!;
    if (policy === 'Delete') {
      if (ns.metadata?.deletionTimestamp) return `Namespace ${name} (already terminating)`;
      await this.#writes.delete(namespaceRef(name), { preconditions: { uid: ns.metadata?.uid } });
      return `deleted Namespace ${name}`;
    }
    // Retain: take off what marks it as the tenant's; merge patch, guarded by resourceVersion
    const owned = ownedMetadata(ns.metadata?.managedFields ?? []);
    const labels: Record<string, null> = { [TENANT_LABEL]: null };
    for (const key of owned.labels)
      if (key in (ns.metadata?.labels ?? {}) && !key.startsWith('kubernetes.io/')) labels[key] = null;
    const refs = (ns.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid);
    await this.#writes.mergePatch<Namespace>(namespaceRef(name), {
      metadata: {
        resourceVersion: ns.metadata?.resourceVersion,
        labels,
        ownerReferences: refs.length ? refs : null,
      },
    });
    return `released Namespace ${name}`;
  }

  // ---- pieces ----------------------------------------------------------------------------------------

  async #ensureFinalizer(pass: Pass): Promise<void> {
    const { tenant } = pass;
    const has = (tenant.metadata.finalizers ?? []).includes(RELEASE_FINALIZER);
    const wants = (tenant.spec.namespaceDeletionPolicy ?? 'Retain') === 'Retain';
    if (has === wants) return;
    if (wants) {
      pass.tenant = await this.#writes.apply<Tenant>({
        ...tenantRef(tenant),
        metadata: { name: tenant.metadata.name, finalizers: [RELEASE_FINALIZER] },
      });
      return;
    }
    const rest = (tenant.metadata.finalizers ?? []).filter((f) => f !== RELEASE_FINALIZER);
    pass.tenant = await this.#writes.mergePatch<Tenant>(tenantRef(tenant), {
      metadata: { resourceVersion: tenant.metadata.resourceVersion, finalizers: rest.length ? rest : null },
    });
  }

  /** Writes status if it changed; true when it wrote. */
  async #writeStatus(tenant: Tenant, input: StatusInput): Promise<boolean> {
    const current = this.#inf.tenants.get(tenant.metadata.name) ?? tenant;
    const status = desiredStatus(current, input, new Date());
    if (!statusChanged(current.status, status)) return false;
    try {
      await this.#writes.applyStatus<Tenant>(tenantRef(tenant), status);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async #reportError(pass: Pass, err: unknown): Promise<void> {
    try {
      await this.#writeStatus(pass.tenant, {
        namespaces: pass.tenant.status?.namespaces ?? [],
        routes: pass.tenant.status?.routes ?? 0,
        gatewayProblems: [],
        error: errorMessage(err),
      });
    } catch (statusErr) {
      this.#log.warn('could not record the failure in status', {
        tenant: pass.tenant.metadata.name,
        error: errorMessage(statusErr),
      });
    }
  }

  #emitEvents(pass: Pass, input: StatusInput, statusWritten: boolean): void {
    const { tenant } = pass;
    if (pass.created.length)
      this.#recorder.record(tenant, {
        type: 'Normal',
        reason: 'Created',
        action: 'Create',
        note: `created ${summarize(pass.created)}`,
      });
    if (pass.updated.length) {
      // a spec change we are catching up with, or someone edited/deleted what we made
      const specChange = tenant.status?.observedGeneration !== tenant.metadata.generation;
      this.#recorder.record(
        tenant,
        specChange
          ? {
              type: 'Normal',
              reason: 'Updated',
              action: 'Update',
              note: `updated ${summarize(pass.updated)}`,
            }
          : {
              type: 'Normal',
              reason: 'Repaired',
              action: 'Repair',
              note: `repaired ${summarize(pass.updated)} (edited or deleted by someone else)`,
            },
      );
    }
    if (pass.adopted.length)
      this.#recorder.record(tenant, {
        type: 'Normal',
        reason: 'Adopted',
        action: 'Adopt',
        note: `adopted existing Namespace ${pass.adopted.join(', ')} (handed over by the ${ADOPT_ANNOTATION} annotation, now removed): labelled, owned and granted like the namespaces it made`,
      });
    if (pass.removed.length)
      this.#recorder.record(tenant, {
        type: 'Normal',
        reason: 'Removed',
        action: 'Update',
        note: summarize(pass.removed),
      });
    // warnings only when they change what status says, so a periodic resync does not repeat them
    if (statusWritten) {
      for (const n of input.namespaces.filter((r) => r.conflict)) {
        this.#recorder.record(tenant, {
          type: 'Warning',
          reason: 'NamespaceConflict',
          action: 'Reconcile',
          note: n.message ?? '',
        });
      }
      if (input.gatewayProblems.length) {
        this.#recorder.record(tenant, {
          type: 'Warning',
          reason: 'GatewayProblem',
          action: 'Reconcile',
          note: input.gatewayProblems.join('; '),
        });
      }
    }
    for (const ns of pass.adopted) {
      this.#log.info('adopted a namespace', { tenant: tenant.metadata.name, uid: pass.uid, namespace: ns });
    }
    if (pass.created.length || pass.updated.length || pass.removed.length) {
      this.#log.info('tenant reconciled', {
        tenant: tenant.metadata.name,
        created: pass.created.length,
        updated: pass.updated.length,
        removed: pass.removed.length,
      });
    }
  }

  #ownedChildren(uid: string): Child[] {
    return [
      ...this.#inf.roleBindings.byIndex(Indexes.ownerUid, uid),
      ...this.#inf.referenceGrants.byIndex(Indexes.ownerUid, uid),
    ] as Child[];
  }

  async #deleteChild(child: KubeObject): Promise<void> {
    await this.#writes.delete(child, { preconditions: { uid: child.metadata?.uid } });
  }

  #childInformer(obj: KubeObject): Informer<KubeObject> {
    return (obj.kind === 'RoleBinding'
      ? this.#inf.roleBindings
      : this.#inf.referenceGrants) as unknown as Informer<KubeObject>;
  }

  #countRoutes(namespaces: string[]): number {
    let n = 0;
    for (const ns of namespaces) {
      n += this.#inf.httpRoutes.list(ns).length + this.#inf.grpcRoutes.list(ns).length;
    }
    return n;
  }
}

/**
 * The merge patch that brings an owned namespace's labels and owner reference to `want`, guarded by the
 * resourceVersion its ownership was checked on; undefined when nothing differs. Namespaces are written with
 * POST and merge patches, never apply: apply would merge into a namespace someone else made a moment ago.
 * Labels tenantgate set earlier but no longer wants (a label removed from the spec, a Gateway dropped) are
 * removed; the API server's own kubernetes.io/metadata.name is left alone.
 */
export function namespacePatch(want: Namespace, actual: Namespace, uid: string): object | undefined {
  const have = actual.metadata?.labels ?? {};
  const wanted = want.metadata?.labels ?? {};
  const labels: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(wanted)) if (have[k] !== v) labels[k] = v;
  for (const k of ownedMetadata(actual.metadata?.managedFields ?? []).labels) {
    if (!(k in wanted) && k in have && !k.startsWith('kubernetes.io/')) labels[k] = null;
  }
  const ours = want.metadata?.ownerReferences?.[0];
  const refs = actual.metadata?.ownerReferences ?? [];
  const current = refs.find((r) => r.uid === uid);
  const refsChanged = ours !== undefined && !(current && contains(current, ours));
  if (Object.keys(labels).length === 0 && !refsChanged) return undefined;
  return {
    metadata: {
      resourceVersion: actual.metadata?.resourceVersion,
      ...(Object.keys(labels).length ? { labels } : {}),
      ...(refsChanged ? { ownerReferences: [...refs.filter((r) => r.uid !== uid), ours] } : {}),
    },
  };
}

/**
 * Adopting a namespace handed over by the adopt-by annotation: the labels and owner reference a namespace
 * the Tenant made would have, the annotation removed (it did its job), all guarded by the resourceVersion
 * on which the namespace was seen unowned and handed to this Tenant. Other labels and owners stay.
 */
export function adoptionPatch(want: Namespace, actual: Namespace, uid: string): object {
  const have = actual.metadata?.labels ?? {};
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(want.metadata?.labels ?? {})) if (have[k] !== v) labels[k] = v;
  const ours = want.metadata!.ownerReferences![0]!;
  return {
    metadata: {
      resourceVersion: actual.metadata?.resourceVersion,
      labels,
      annotations: { [ADOPT_ANNOTATION]: null },
      ownerReferences: [...(actual.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid), ours],
    },
  };
}

const namespaceRef = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

function tenantRef(tenant: Tenant) {
  return {
    apiVersion: tenant.apiVersion ?? KINDS.Tenant.apiVersion,
    kind: 'Tenant' as const,
    metadata: { name: tenant.metadata.name },
  };
}

function sameRoleRef(a: RoleBinding, b: RoleBinding): boolean {
  return (
    a.roleRef?.name === b.roleRef.name &&
    a.roleRef?.kind === b.roleRef.kind &&
    a.roleRef?.apiGroup === b.roleRef.apiGroup
  );
}

/** "Namespace a, Namespace b, RoleBinding a/x" -> at most ~20 items, then "and N more". */
function summarize(items: string[]): string {
  const shown = items.slice(0, 20).join(', ');
  return items.length > 20 ? `${shown} and ${items.length - 20} more` : shown;
}
