// Names the reconciler stamps on what it makes. Other components (webhooks, proxy) read some of them.
import { ADOPT_ANNOTATION, API_VERSION, TENANT_LABEL } from '../api/common.ts';

export { ADOPT_ANNOTATION, TENANT_LABEL };
export const TENANT_API_VERSION = API_VERSION;

/** On the Tenant while namespaceDeletionPolicy is Retain: released before the Tenant (and GC) goes. */
export const RELEASE_FINALIZER = 'tenantgate.io/release-namespaces';

/** The shared ClusterRole bound to a tenant's owners in each of its namespaces. */
export const OWNER_CLUSTER_ROLE = 'tenantgate:tenant-owner';
/** The RoleBinding of OWNER_CLUSTER_ROLE to the owners, in every tenant namespace. */
export const OWNER_ROLE_BINDING = 'tenantgate:tenant-owner';
/** additionalRoleBindings: one RoleBinding per ClusterRole, named with this prefix + the ClusterRole name. */
export const ADDITIONAL_ROLE_BINDING_PREFIX = 'tenantgate:additional:';
/** ReferenceGrants letting routes reach Services across the tenant's namespaces: this name, then -2, -3... */
export const REFERENCE_GRANT_NAME = 'tenantgate-routes';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'tenantgate';
