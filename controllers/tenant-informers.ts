// The caches the Tenant controller reads, and the indexes it looks objects up by — declared next to the
// reconciler that uses them (controller-runtime's SetupWithManager), from the process's shared factory so
// that one process holds one watch per kind.
import type { Tenant } from '../api/tenant.ts';
import type { Informer } from '../kube/informer.ts';
import type { InformerFactory } from '../kube/informer-factory.ts';
import { KINDS, type KindRef } from '../kube/resources.ts';
import type { KubeObject } from '../kube/types.ts';
import { tenantNamesOf, tenantOwnerRefs } from './ownership.ts';
import type { ClusterRole, Gateway, Namespace, ReferenceGrant, RoleBinding } from './types.ts';

/** Index names on the informers below. */
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

/** The kinds the Tenant controller watches (Gateway API CRDs must be installed for it to become ready). */
export const TENANT_CONTROLLER_KINDS: KindRef[] = [
  KINDS.Tenant,
  KINDS.Namespace,
  KINDS.RoleBinding,
  KINDS.ReferenceGrant,
  KINDS.ClusterRole,
  KINDS.Gateway,
  KINDS.HTTPRoute,
  KINDS.GRPCRoute,
];

/** The controller's informers from the shared factory, with its indexes added. */
export function tenantInformers(factory: InformerFactory): TenantInformers {
  const inf: TenantInformers = {
    tenants: factory.informer<Tenant>(KINDS.Tenant),
    namespaces: factory.informer<Namespace>(KINDS.Namespace),
    roleBindings: factory.informer<RoleBinding>(KINDS.RoleBinding),
    referenceGrants: factory.informer<ReferenceGrant>(KINDS.ReferenceGrant),
    clusterRoles: factory.informer<ClusterRole>(KINDS.ClusterRole),
    gateways: factory.informer<Gateway>(KINDS.Gateway),
    httpRoutes: factory.informer<KubeObject>(KINDS.HTTPRoute),
    grpcRoutes: factory.informer<KubeObject>(KINDS.GRPCRoute),
  };
  const ownerUids = (obj: KubeObject) => tenantOwnerRefs(obj).map((r) => r.uid);
  for (const owned of [inf.namespaces, inf.roleBindings, inf.referenceGrants] as const) {
    owned.addIndex(Indexes.ownerUid, ownerUids);
    owned.addIndex(Indexes.tenantName, tenantNamesOf);
  }
  inf.tenants.addIndex(Indexes.specNamespace, (t) => (t.spec?.namespaces ?? []).map((n) => n.name));
  inf.tenants.addIndex(Indexes.specGateway, (t) =>
    (t.spec?.gateways ?? []).map((g) => `${g.namespace}/${g.name}`),
  );
  return inf;
}
