// The shapes of the Kubernetes kinds the Tenant reconciler reads and writes, as far as it uses them.
import type { LabelSelector } from '../api/common.ts';
import type { KubeObject } from '../kube/types.ts';

export interface Namespace extends KubeObject {
  status?: { phase?: 'Active' | 'Terminating' };
}

export interface RbacSubject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleBinding extends KubeObject {
  roleRef: { apiGroup: string; kind: 'ClusterRole' | 'Role'; name: string };
  subjects?: RbacSubject[];
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface ClusterRole extends KubeObject {
  rules?: PolicyRule[];
}

export interface ReferenceGrant extends KubeObject {
  spec: {
    from: { group: string; kind: string; namespace: string }[];
    to: { group: string; kind: string; name?: string }[];
  };
}

export interface GatewayListener {
  name: string;
  allowedRoutes?: { namespaces?: { from?: 'All' | 'Same' | 'Selector'; selector?: LabelSelector } };
}

export interface Gateway extends KubeObject {
  spec?: { listeners?: GatewayListener[] };
}
