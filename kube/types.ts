// The minimal shape every Kubernetes object has, as JSON comes off the wire (timestamps are strings).
// Kind-specific types (api/, or client-node's V1* models used as plain types) extend it.

// One definition of object metadata and of the object itself, in api/ (which must not import kube/).
import type { KubeObject } from '../api/kubernetes.ts';

export type { ManagedFieldsEntry, OwnerReference, WireObjectMeta as ObjectMeta } from '../api/common.ts';
export type { KubeObject } from '../api/kubernetes.ts';

export interface KubeList<T extends KubeObject = KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: T[];
}

/** metav1.Status, the body of every API error */
export interface KubeStatus {
  kind?: 'Status';
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: { field?: string; message?: string; reason?: string }[];
  };
}

/** "ns/name" or "name" for cluster-scoped objects; the key of every cache and work queue. */
export function objectKey(obj: { metadata?: { name?: string; namespace?: string } }): string {
  const m = obj.metadata ?? {};
  return m.namespace ? `${m.namespace}/${m.name ?? ''}` : (m.name ?? '');
}
