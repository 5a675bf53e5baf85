// Tenant (cluster-scoped): one object onboards a team. Shape in docs and design.md.
import type { API_VERSION } from './common.ts';
import { conditions, rateUnit, type ObjectMeta } from './common.ts';
import {
  array,
  boolean,
  DNS1123_LABEL,
  DNS1123_SUBDOMAIN,
  integer,
  object,
  record,
  string,
  stringEnum,
  type Infer,
} from './schema.ts';

const dnsLabel = string({ minLength: 1, maxLength: 63, pattern: DNS1123_LABEL });
const dnsSubdomain = string({ minLength: 1, maxLength: 253, pattern: DNS1123_SUBDOMAIN });
/** Gateway API's Hostname: a DNS name, optionally with one leading wildcard label. */
export const HOSTNAME_PATTERN = '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const subject = object(
  {
    kind: stringEnum(['User', 'Group', 'ServiceAccount']),
    name: string({ minLength: 1, maxLength: 253 }),
    namespace: dnsLabel,
  },
  {
    required: ['kind', 'name'],
    'x-kubernetes-validations': [
      {
        rule: "self.kind != 'ServiceAccount' || has(self.namespace)",
        message: 'a ServiceAccount owner needs a namespace',
      },
    ],
  },
);

export const tenantSpec = object(
  {
    owners: array(subject, {
      maxItems: 64,
      description: 'get edit rights on routes, policies and workloads in the tenant namespaces',
    }),
    namespaces: array(
      object(
        {
          name: dnsLabel,
          labels: record(string({ maxLength: 63 }), { description: 'extra labels for this namespace' }),
        },
        { required: ['name'] },
      ),
      {
        minItems: 1,
        maxItems: 128,
        description: 'the namespaces the tenant owns; names are unique',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      },
    ),
    gateways: array(
      object(
        {
          name: dnsSubdomain,
          namespace: dnsLabel,
          sectionNames: array(dnsSubdomain, { maxItems: 64, 'x-kubernetes-list-type': 'set' }),
        },
        { required: ['name', 'namespace'] },
      ),
      { maxItems: 64, description: 'shared Gateways (and listeners) the tenant routes may attach to' },
    ),
    hostnames: array(string({ minLength: 1, maxLength: 253, pattern: HOSTNAME_PATTERN }), {
      maxItems: 256,
      'x-kubernetes-list-type': 'set',
      description: 'hostnames the tenant routes may claim; a leading "*." matches subdomains',
    }),
    limits: object({
      maxRoutes: integer({ minimum: 0, description: 'HTTPRoutes + GRPCRoutes across the tenant' }),
      rateLimit: object(
        { requests: integer({ minimum: 1 }), unit: rateUnit },
        { required: ['requests', 'unit'], description: 'ceiling for any single RateLimitPolicy limit' },
      ),
    }),
    additionalRoleBindings: array(
      object(
        {
          clusterRoleName: dnsSubdomain,
          subjects: array(subject, { minItems: 1, maxItems: 64 }),
        },
        { required: ['clusterRoleName', 'subjects'] },
      ),
      { maxItems: 32 },
    ),
    namespaceDeletionPolicy: stringEnum(['Retain', 'Delete'], {
      default: 'Retain',
      description:
        'Retain releases a removed namespace (label and owner reference removed); Delete deletes it',
    }),
  },
  { required: ['namespaces'] },
);

export const tenantStatus = object({
  observedGeneration: integer({ minimum: 0, format: 'int64' }),
  conditions,
  namespaces: array(
    object(
      {
        name: string(),
        ready: boolean(),
        message: string(),
        roleBindings: array(string(), {
          maxItems: 128,
          description: 'RoleBindings the operator keeps in this namespace',
        }),
        referenceGrants: array(string(), {
          maxItems: 16,
          description: 'ReferenceGrants the operator keeps in this namespace',
        }),
      },
      { required: ['name', 'ready'] },
    ),
    { maxItems: 128 },
  ),
  namespacesReady: string({ description: 'ready namespaces out of those listed, e.g. 2/2 (for printing)' }),
  routes: integer({ minimum: 0, description: 'HTTPRoutes + GRPCRoutes in the tenant namespaces' }),
});

export type TenantSpec = Infer<typeof tenantSpec>;
export type TenantStatus = Infer<typeof tenantStatus>;
export type TenantOwner = Infer<typeof subject>;

export interface Tenant {
  apiVersion: typeof API_VERSION;
  kind: 'Tenant';
  metadata: ObjectMeta;
  spec: TenantSpec;
  status?: TenantStatus;
}
