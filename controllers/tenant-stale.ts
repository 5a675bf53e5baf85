// Stale removal: what the Tenant owns but no longer wants. Children are wanted only in namespaces proven
// to be the Tenant's, so grants left in a namespace whose ownership was lost (someone removed the owner
// reference) are withdrawn; namespaces no longer listed are released or deleted by the
// namespaceDeletionPolicy. A terminating namespace's contents are left to the namespace controller.
import { isConflict } from '../kube/client.ts';
import { deleteChild, ownedChildren } from './tenant-children.ts';
import type { DesiredTenant, NamespacedChild } from './tenant-desired.ts';
import { Indexes } from './tenant-informers.ts';
import { removeNamespace } from './tenant-namespaces.ts';
import type { Pass, TenantContext } from './tenant-pass.ts';
import type { NamespaceResult } from './tenant-status.ts';

export async function removeStale(
  ctx: TenantContext,
  pass: Pass,
  desired: DesiredTenant,
  children: Map<string, NamespacedChild[]>,
  results: NamespaceResult[],
): Promise<void> {
  const wanted = new Set<string>();
  for (const [ns, list] of children) for (const c of list) wanted.add(`${c.kind}/${ns}/${c.metadata.name}`);
  const terminating = new Set(results.filter((r) => r.terminating).map((r) => r.name));
  for (const child of ownedChildren(ctx.informers, pass.uid)) {
    const ns = child.metadata?.namespace ?? '';
    if (terminating.has(ns) || wanted.has(`${child.kind}/${ns}/${child.metadata?.name}`)) continue;
    await deleteChild(ctx, child);
    pass.removed.push(`${child.kind} ${ns}/${child.metadata?.name}`);
  }
  const policy = pass.tenant.spec.namespaceDeletionPolicy ?? 'Retain';
  for (const ns of ctx.informers.namespaces.byIndex(Indexes.ownerUid, pass.uid)) {
    const name = ns.metadata!.name!;
    if (desired.namespaces.has(name)) continue;
    try {
      pass.removed.push(await removeNamespace(ctx, ns, pass.uid, policy));
    } catch (err) {
      if (!isConflict(err)) throw err;
      pass.retrySoon.push(`namespace ${name} changed while being released`);
    }
  }
}
