// The Tenant's namespaces: made with POST (not apply, which would merge into a namespace someone created
// a moment ago), kept labelled and owned with merge patches guarded by the resourceVersion on which
// ownership was checked, adopted when a platform admin hands one over (tenantgate.io/adopt-by), and
// released (Retain) or deleted (Delete) when the Tenant no longer lists them.
//
// A namespace is the Tenant's only if it has an owner reference to the Tenant's UID. One that exists
// without it is a conflict (reported, never touched) unless it was handed over to this Tenant and is no
// Tenant's: then it is adopted — labelled and owned as if the Tenant had made it, the annotation removed.
import { contains, ownedMetadata } from '../kube/apply.ts';
import { isAlreadyExists, isConflict } from '../kube/client.ts';
import { ADOPT_ANNOTATION, TENANT_LABEL } from './labels.ts';
import { adoptableBy, describeForeignNamespace, isOwnedBy } from './ownership.ts';
import type { DesiredNamespace } from './tenant-desired.ts';
import { namespaceRef, type Pass, type TenantContext } from './tenant-pass.ts';
import type { NamespaceResult } from './tenant-status.ts';
import type { Namespace } from './types.ts';

/** Brings namespace `want.metadata.name` to `want` if it is (or may become) the Tenant's. */
export async function syncNamespace(
  ctx: TenantContext,
  pass: Pass,
  want: DesiredNamespace,
): Promise<NamespaceResult> {
  const name = want.metadata.name;
  const actual = ctx.informers.namespaces.get(name);
  if (!actual) {
    try {
      await ctx.writes.create<Namespace>(want);
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
      await ctx.writes.mergePatch<Namespace>(want, adoptionPatch(want, actual, pass.uid));
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
        await ctx.writes.mergePatch<Namespace>(want, patch);
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

/** Releases (Retain) or deletes (Delete) a namespace the Tenant owns; returns what it did. */
export async function removeNamespace(
  ctx: TenantContext,
  ns: Namespace,
  uid: string,
  policy: 'Retain' | 'Delete',
): Promise<string> {
  const name = ns.metadata!.name!;
  if (policy === 'Delete') {
    if (ns.metadata?.deletionTimestamp) return `Namespace ${name} (already terminating)`;
    await ctx.writes.delete(namespaceRef(name), { preconditions: { uid: ns.metadata?.uid } });
    return `deleted Namespace ${name}`;
  }
  // Retain: take off what marks it as the tenant's; merge patch, guarded by resourceVersion
  const owned = ownedMetadata(ns.metadata?.managedFields ?? []);
  const labels: Record<string, null> = { [TENANT_LABEL]: null };
  for (const key of owned.labels)
    if (key in (ns.metadata?.labels ?? {}) && !key.startsWith('kubernetes.io/')) labels[key] = null;
  const refs = (ns.metadata?.ownerReferences ?? []).filter((r) => r.uid !== uid);
  await ctx.writes.mergePatch<Namespace>(namespaceRef(name), {
    metadata: {
      resourceVersion: ns.metadata?.resourceVersion,
      labels,
      ownerReferences: refs.length ? refs : null,
    },
  });
  return `released Namespace ${name}`;
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
