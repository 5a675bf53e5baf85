// The one model of the core Kubernetes kinds tenantgate reads and writes, as JSON comes off the wire, typed
// only as far as tenantgate uses them. The operator, the webhook and the proxy all import these (through
// kube/types.ts, controllers/types.ts and proxy/model/gateway-api.ts), so an object read by one part is
// the same type in every other.
import type { LabelSelector, ObjectMeta, WireObjectMeta } from './common.ts';

export type { LabelSelector, ObjectMeta, WireObjectMeta };

/** Any Kubernetes object: what kube/ reads and writes for every kind, including ones still to be created. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: WireObjectMeta;
}

/** An object as the API server (or a manifest file) holds it: it always has a name. */
export interface NamedObject extends KubeObject {
  metadata: ObjectMeta;
}

export interface Namespace extends NamedObject {
  status?: { phase?: 'Active' | 'Terminating' };
}

export interface Secret extends NamedObject {
  type?: string;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface ConfigMap extends NamedObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

export interface Service extends NamedObject {
  spec?: { ports?: ServicePort[]; selector?: Record<string, string>; clusterIP?: string; type?: string };
}

export interface EndpointSlice extends NamedObject {
  addressType?: string;
  endpoints?: {
    addresses: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  }[];
  ports?: { name?: string; port?: number; protocol?: string; appProtocol?: string }[];
}

export interface RbacSubject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export interface RoleBinding extends NamedObject {
  roleRef: { apiGroup: string; kind: 'ClusterRole' | 'Role'; name: string };
  subjects?: RbacSubject[];
}

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

export interface ClusterRole extends NamedObject {
  rules?: PolicyRule[];
}
