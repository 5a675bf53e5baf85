// What the Tenant has inside its namespaces: RoleBindings (owners, additionalRoleBindings) and
// ReferenceGrants, written with server-side apply only inside namespaces proven to be the Tenant's, and
// found again through the owner-UID index when they are no longer wanted.
import { needsApply } from '../kube/apply.ts';
import type { KubeObject } from '../kube/types.ts';
import type { NamespacedChild } from './tenant-desired.ts';
import { Indexes, type TenantInformers } from './tenant-informers.ts';
import type { Pass, TenantContext } from './tenant-pass.ts';
import type { ReferenceGrant, RoleBinding } from './types.ts';

/** Applies `want` if the cached object differs; a RoleBinding whose roleRef changed is replaced. */
export async function syncChild(ctx: TenantContext, pass: Pass, want: NamespacedChild): Promise<void> {
  const { name, namespace } = want.metadata;
  let actual = cachedChild(ctx.informers, want);
  const label = `${want.kind} ${namespace}/${name}`;
  if (actual && isRoleBinding(want) && !sameRoleRef(actual as RoleBinding, want)) {
    // roleRef is immutable: replace the binding
    await ctx.writes.delete(actual, { preconditions: { uid: actual.metadata?.uid } });
    actual = undefined;
  }
  if (!needsApply(want, actual)) return;
  await ctx.writes.apply(want);
  (actual ? pass.updated : pass.created).push(label);
}

/** Every RoleBinding and ReferenceGrant with an owner reference to this Tenant UID. */
export function ownedChildren(inf: TenantInformers, uid: string): (RoleBinding | ReferenceGrant)[] {
  return [
    ...inf.roleBindings.byIndex(Indexes.ownerUid, uid),
    ...inf.referenceGrants.byIndex(Indexes.ownerUid, uid),
  ];
}

/** Deletes a cached child, only this incarnation of it (UID precondition). */
export async function deleteChild(ctx: TenantContext, child: KubeObject): Promise<void> {
  await ctx.writes.delete(child, { preconditions: { uid: child.metadata?.uid } });
}

function cachedChild(inf: TenantInformers, want: NamespacedChild): RoleBinding | ReferenceGrant | undefined {
  const { name, namespace } = want.metadata;
  return isRoleBinding(want)
    ? inf.roleBindings.get(name, namespace)
    : inf.referenceGrants.get(name, namespace);
}

function isRoleBinding(child: NamespacedChild): child is Extract<NamespacedChild, RoleBinding> {
  return child.kind === 'RoleBinding';
}

function sameRoleRef(a: RoleBinding, b: RoleBinding): boolean {
  return (
    a.roleRef?.name === b.roleRef.name &&
    a.roleRef?.kind === b.roleRef.kind &&
    a.roleRef?.apiGroup === b.roleRef.apiGroup
  );
}
