// Schema pieces shared by our kinds: object metadata, metav1.Condition, Gateway API policy targetRefs and
// policy status.
import { array, DNS1123_SUBDOMAIN, integer, object, string, stringEnum, type Infer } from './schema.ts';

export const GROUP = 'tenantgate.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const GATEWAY_CONTROLLER_NAME = 'tenantgate.io/gateway-controller';
/** on everything the reconciler makes, and on the tenant's namespaces */
export const TENANT_LABEL = 'tenantgate.io/tenant';
/**
 * Set by a platform admin on an existing Namespace: hands it to the named Tenant, which adopts it when it
 * lists it (and removes the annotation). The webhook admits it only from someone who may update the
 * namespace.
 */
export const ADOPT_ANNOTATION = 'tenantgate.io/adopt-by';

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: 'Apply' | 'Update';
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/** metav1.ObjectMeta as JSON comes off the wire (timestamps are strings); `kube/` uses it for any kind. */
export interface WireObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  managedFields?: ManagedFieldsEntry[];
}

/** The metadata of our kinds' objects, which always have a name. */
export interface ObjectMeta extends WireObjectMeta {
  name: string;
}

/** metav1.LabelSelector: matchLabels AND matchExpressions. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: string[];
  }[];
}

export const condition = object(
  {
    type: string({ maxLength: 316, description: 'type of condition in CamelCase, e.g. Ready' }),
    status: stringEnum(['True', 'False', 'Unknown']),
    observedGeneration: integer({ minimum: 0, format: 'int64' }),
    lastTransitionTime: string({ format: 'date-time' }),
    reason: string({
      maxLength: 1024,
      minLength: 1,
      description: 'CamelCase reason for the last transition',
    }),
    message: string({ maxLength: 32768 }),
  },
  { required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'] },
);
export type Condition = Infer<typeof condition>;

export const conditions = array(condition, {
  maxItems: 16,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
});

export const RATE_UNITS = ['Second', 'Minute', 'Hour', 'Day'] as const;
export type RateUnit = (typeof RATE_UNITS)[number];
export const rateUnit = stringEnum(RATE_UNITS, { description: 'the window a request count applies to' });

const objectName = string({ minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN });
const sectionName = string({ minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN });

/** Gateway API policy attachment: a local (same-namespace) reference to a route or Gateway. */
export const targetRef = object(
  {
    group: stringEnum(['gateway.networking.k8s.io']),
    kind: stringEnum(['Gateway', 'HTTPRoute', 'GRPCRoute']),
    name: objectName,
    sectionName: sectionName,
  },
  { required: ['group', 'kind', 'name'] },
);
export type TargetRef = Infer<typeof targetRef>;

export const targetRefs = array(targetRef, {
  minItems: 1,
  maxItems: 16,
  description: 'the Gateways or routes, in this namespace, the policy attaches to',
  'x-kubernetes-validations': [
    {
      rule: 'self.all(a, self.exists_one(b, a.kind == b.kind && a.name == b.name && (has(a.sectionName) ? a.sectionName : "") == (has(b.sectionName) ? b.sectionName : "")))',
      message: 'targetRefs must be unique',
    },
  ],
});

export const policyAncestorStatus = object(
  {
    ancestorRef: object(
      {
        group: string(),
        kind: string(),
        namespace: string(),
        name: string(),
        sectionName: string(),
      },
      { required: ['name'] },
    ),
    controllerName: string({ maxLength: 253 }),
    conditions,
  },
  { required: ['ancestorRef', 'controllerName'] },
);

export const policyStatus = object({
  ancestors: array(policyAncestorStatus, { maxItems: 16 }),
});
export type PolicyStatus = Infer<typeof policyStatus>;
