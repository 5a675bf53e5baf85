// Who owns what. A Tenant owns an object when the object has an owner reference to the Tenant's UID —
// a label alone proves nothing (anyone who can edit labels could forge it), and a Tenant deleted and
// recreated under the same name is a different owner.
import type { Tenant } from '../api/tenant.ts';
import type { KubeObject, OwnerReference } from '../kube/types.ts';
import { ADOPT_ANNOTATION, TENANT_API_VERSION, TENANT_LABEL } from './labels.ts';

export function tenantOwnerReference(tenant: Tenant): OwnerReference {
  return {
    apiVersion: TENANT_API_VERSION,
    kind: 'Tenant',
    name: tenant.metadata.name,
    uid: tenant.metadata.uid!,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function isOwnedBy(obj: KubeObject, uid: string | undefined): boolean {
  return !!uid && (obj.metadata?.ownerReferences ?? []).some((r) => r.uid === uid);
}

/** Owner references to Tenants (any version of our group). */
export function tenantOwnerRefs(obj: KubeObject): OwnerReference[] {
  return (obj.metadata?.ownerReferences ?? []).filter(
    (r) => r.kind === 'Tenant' && r.apiVersion.startsWith('tenantgate.io/'),
  );
}

/** Names of the Tenants an object points at, by owner reference or by label: the keys to enqueue. */
export function tenantNamesOf(obj: KubeObject): string[] {
  const names = new Set(tenantOwnerRefs(obj).map((r) => r.name));
  const label = obj.metadata?.labels?.[TENANT_LABEL];
  if (label) names.add(label);
  return [...names];
}

/**
 * Whether a listed namespace that is not the Tenant's is handed to it: annotated `tenantgate.io/adopt-by:
 * <tenant>` (admitted only from someone who may update the namespace), owned by no Tenant (not even an
 * earlier one of the same name, whose things the garbage collector is about to delete), not terminating.
 */
export function adoptableBy(ns: KubeObject, tenant: Tenant): boolean {
  return (
    ns.metadata?.annotations?.[ADOPT_ANNOTATION] === tenant.metadata.name &&
    tenantOwnerRefs(ns).length === 0 &&
    !ns.metadata?.deletionTimestamp
  );
}

/** Why a namespace that a Tenant lists is not the Tenant's, naming the owner, for status and Events. */
export function describeForeignNamespace(ns: KubeObject, tenant: Tenant): string {
  const name = ns.metadata?.name;
  const owners = tenantOwnerRefs(ns);
  const other = owners.find((r) => r.uid !== tenant.metadata.uid);
  if (other) {
    const same = other.name === tenant.metadata.name;
    return same
      ? `namespace ${name} belongs to an earlier Tenant named ${other.name} (uid ${other.uid}), not to this one (uid ${tenant.metadata.uid}); it is left alone until the garbage collector removes it, then made anew`
      : `namespace ${name} already exists and belongs to Tenant ${other.name}; tenantgate never takes a namespace over`;
  }
  const label = ns.metadata?.labels?.[TENANT_LABEL];
  if (label) {
    return `namespace ${name} already exists with label ${TENANT_LABEL}=${label} but no owner reference to this Tenant's uid, so ownership is not proven; tenantgate never takes a namespace over`;
  }
  const otherOwners = (ns.metadata?.ownerReferences ?? []).map((r) => `${r.kind} ${r.name}`);
  const by = otherOwners.length ? `is owned by ${otherOwners.join(', ')}` : 'was not created by a Tenant';
  const handedTo = ns.metadata?.annotations?.[ADOPT_ANNOTATION];
  const hint =
    handedTo && handedTo !== tenant.metadata.name
      ? `its ${ADOPT_ANNOTATION} annotation names Tenant ${handedTo}, not ${tenant.metadata.name}`
      : `to hand it over, a platform admin annotates it ${ADOPT_ANNOTATION}=${tenant.metadata.name}`;
  return `namespace ${name} already exists and ${by}; tenantgate never takes a namespace over unasked (${hint}, or delete it or remove it from the Tenant)`;
}
