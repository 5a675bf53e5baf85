// The ClusterRole `tenantgate:tenant-owner`, bound (by RoleBindings, so only inside each tenant namespace)
// to a Tenant's owners. It lets them run their services and route traffic to them: routes, our policies,
// Services, workloads, ConfigMaps, Secrets, pods/log, events. Deliberately absent: ReferenceGrants (the
// operator makes those, within the tenant only), Namespaces, Roles/RoleBindings (no self-escalation),
// pods/exec and anything cluster-scoped (a RoleBinding cannot grant cluster-scoped rights anyway).
import { KINDS } from '../kube/resources.ts';
import { MANAGED_BY, MANAGED_BY_LABEL, OWNER_CLUSTER_ROLE } from './labels.ts';
import type { ClusterRole, PolicyRule } from './types.ts';

const EDIT = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];
const READ = ['get', 'list', 'watch'];

export const OWNER_RULES: PolicyRule[] = [
  { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes', 'grpcroutes'], verbs: EDIT },
  {
    apiGroups: ['gateway.networking.k8s.io'],
    resources: ['httproutes/status', 'grpcroutes/status'],
    verbs: READ,
  },
  { apiGroups: ['tenantgate.io'], resources: ['ratelimitpolicies', 'accesspolicies'], verbs: EDIT },
  {
    apiGroups: ['tenantgate.io'],
    resources: ['ratelimitpolicies/status', 'accesspolicies/status'],
    verbs: READ,
  },
  {
    apiGroups: [''],
    resources: ['services', 'configmaps', 'secrets', 'pods', 'persistentvolumeclaims'],
    verbs: EDIT,
  },
  { apiGroups: [''], resources: ['pods/log', 'events', 'endpoints', 'serviceaccounts'], verbs: READ },
  { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: READ },
  { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: READ },
  {
    apiGroups: ['apps'],
    resources: [
      'deployments',
      'statefulsets',
      'daemonsets',
      'replicasets',
      'deployments/scale',
      'statefulsets/scale',
    ],
    verbs: EDIT,
  },
  { apiGroups: ['batch'], resources: ['jobs', 'cronjobs'], verbs: EDIT },
  { apiGroups: ['autoscaling'], resources: ['horizontalpodautoscalers'], verbs: EDIT },
  { apiGroups: ['policy'], resources: ['poddisruptionbudgets'], verbs: EDIT },
];

export function ownerClusterRole(): ClusterRole & {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
} {
  return {
    apiVersion: KINDS.ClusterRole.apiVersion,
    kind: KINDS.ClusterRole.kind,
    metadata: { name: OWNER_CLUSTER_ROLE, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    rules: OWNER_RULES,
  };
}
