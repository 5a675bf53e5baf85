// The Tenant's finalizer. While namespaceDeletionPolicy is Retain the Tenant carries
// tenantgate.io/release-namespaces, so that its namespaces are released (tenant label, the labels
// tenantgate set and the owner reference removed; its RoleBindings/ReferenceGrants in them deleted) before
// the Tenant goes; after that the garbage collector deletes whatever still has an owner reference to it
// (which is how a deleted Tenant's namespaces go with namespaceDeletionPolicy Delete).
import type { Tenant } from '../api/tenant.ts';
import { isConflict, isNotFound } from '../kube/client.ts';
import type { ReconcileResult } from './controller.ts';
import { RELEASE_FINALIZER } from './labels.ts';
import { deleteChild, ownedChildren } from './tenant-children.ts';
import { TenantEvents } from './tenant-events.ts';
import { Indexes } from './tenant-informers.ts';
import { removeNamespace } from './tenant-namespaces.ts';
import { tenantRef, type Pass, type TenantContext } from './tenant-pass.ts';

/** Adds or removes the finalizer as the policy wants; `pass.tenant` becomes the written Tenant. */
export async function ensureFinalizer(ctx: TenantContext, pass: Pass): Promise<void> {
  const { tenant } = pass;
  const has = (tenant.metadata.finalizers ?? []).includes(RELEASE_FINALIZER);
  const wants = (tenant.spec.namespaceDeletionPolicy ?? 'Retain') === 'Retain';
  if (has === wants) return;
  if (wants) {
    pass.tenant = await ctx.writes.apply<Tenant>({
      ...tenantRef(tenant),
      metadata: { name: tenant.metadata.name, finalizers: [RELEASE_FINALIZER] },
    });
    return;
  }
  pass.tenant = await ctx.writes.mergePatch<Tenant>(tenantRef(tenant), withoutFinalizer(tenant));
}

/** A Tenant being deleted: release or delete what it owns, then let it go. */
export async function finalize(ctx: TenantContext, tenant: Tenant): Promise<ReconcileResult | void> {
  const uid = tenant.metadata.uid!;
  const policy = tenant.spec.namespaceDeletionPolicy ?? 'Retain';
  const done: string[] = [];
  for (const child of ownedChildren(ctx.informers, uid)) {
    await deleteChild(ctx, child);
    done.push(`${child.kind} ${child.metadata?.namespace}/${child.metadata?.name}`);
  }
  for (const ns of ctx.informers.namespaces.byIndex(Indexes.ownerUid, uid))
    done.push(await removeNamespace(ctx, ns, uid, policy));
  if (done.length) ctx.recorder.record(tenant, TenantEvents.deleting(policy, done));
  if (!(tenant.metadata.finalizers ?? []).includes(RELEASE_FINALIZER)) return;
  try {
    await ctx.writes.mergePatch<Tenant>(tenantRef(tenant), withoutFinalizer(tenant));
  } catch (err) {
    if (isNotFound(err)) return;
    if (isConflict(err)) return { requeueAfterMs: 500 };
    throw err;
  }
  ctx.log.info('tenant finalized', { tenant: tenant.metadata.name, policy });
}

/** The merge patch taking our finalizer off, guarded by the resourceVersion it was read at. */
function withoutFinalizer(tenant: Tenant) {
  const rest = (tenant.metadata.finalizers ?? []).filter((f) => f !== RELEASE_FINALIZER);
  return {
    metadata: { resourceVersion: tenant.metadata.resourceVersion, finalizers: rest.length ? rest : null },
  };
}
