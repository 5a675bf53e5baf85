// The Kubernetes and Gateway API kinds the Tenant reconciler reads and writes: the one model in api/.
export type { Namespace, RbacSubject, RoleBinding, PolicyRule, ClusterRole } from '../api/kubernetes.ts';
export type { ReferenceGrant, Gateway, Listener as GatewayListener } from '../api/gateway-api.ts';
