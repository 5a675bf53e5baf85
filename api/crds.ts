// The CustomResourceDefinitions of our kinds, built from the same schemas the TypeScript types are
// inferred from. `hack/gen-crds.ts` writes them to config/crd/; api/crds.test.ts fails when the YAML there
// is stale.
import { accessPolicySpec } from './accesspolicy.ts';
import { GROUP, policyStatus, VERSION } from './common.ts';
import { rateLimitPolicySpec } from './ratelimitpolicy.ts';
import { DNS1123_LABEL, type JSONSchemaProps, type Node } from './schema.ts';
import { tenantSpec, tenantStatus } from './tenant.ts';

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

interface CrdOptions {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Cluster' | 'Namespaced';
  spec: Node<unknown>;
  status: Node<unknown>;
  columns: PrinterColumn[];
  labels?: Record<string, string>;
  rootValidations?: JSONSchemaProps['x-kubernetes-validations'];
  description: string;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

const ageColumn: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

function crd(o: CrdOptions): CustomResourceDefinition {
  const openAPIV3Schema: JSONSchemaProps = {
    type: 'object',
    description: o.description,
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: o.spec.schema,
      status: o.status.schema,
    },
    required: ['spec'],
  };
  if (o.rootValidations) openAPIV3Schema['x-kubernetes-validations'] = o.rootValidations;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${o.plural}.${GROUP}`, ...(o.labels ? { labels: o.labels } : {}) },
    spec: {
      group: GROUP,
      names: {
        kind: o.kind,
        listKind: `${o.kind}List`,
        plural: o.plural,
        singular: o.singular,
        shortNames: o.shortNames,
      },
      scope: o.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [...o.columns, ageColumn],
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}

const policyLabels = { 'gateway.networking.k8s.io/policy': 'Inherited' };
const readyColumn = (type: string): PrinterColumn => ({
  name: type,
  type: 'string',
  jsonPath: `.status.conditions[?(@.type=="${type}")].status`,
});

export const tenantCrd = crd({
  kind: 'Tenant',
  plural: 'tenants',
  singular: 'tenant',
  shortNames: ['tnt'],
  scope: 'Cluster',
  spec: tenantSpec,
  status: tenantStatus,
  description: 'A Tenant onboards a team: its namespaces, owners, shared Gateways, hostnames and limits.',
  // The tenant name becomes a label value (tenantgate.io/tenant), so it must be a DNS-1123 label.
  rootValidations: [
    {
      rule: `size(self.metadata.name) <= 63 && self.metadata.name.matches('${DNS1123_LABEL}')`,
      message:
        'metadata.name must be a DNS-1123 label (at most 63 characters: a-z, 0-9, -), as it is used as a label value',
    },
  ],
  columns: [
    readyColumn('Ready'),
    {
      name: 'Namespaces',
      type: 'string',
      jsonPath: '.status.namespacesReady',
      description: 'ready / listed',
    },
    { name: 'Routes', type: 'integer', jsonPath: '.status.routes', priority: 1 },
    {
      name: 'Reason',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
      priority: 1,
    },
  ],
});

export const rateLimitPolicyCrd = crd({
  kind: 'RateLimitPolicy',
  plural: 'ratelimitpolicies',
  singular: 'ratelimitpolicy',
  shortNames: ['rlp'],
  scope: 'Namespaced',
  spec: rateLimitPolicySpec,
  status: policyStatus,
  labels: policyLabels,
  description:
    'Request-rate limits attached to HTTPRoutes, GRPCRoutes or Gateways (Gateway API policy attachment).',
  columns: [{ name: 'Targets', type: 'string', jsonPath: '.spec.targetRefs[*].name' }],
});

export const accessPolicyCrd = crd({
  kind: 'AccessPolicy',
  plural: 'accesspolicies',
  singular: 'accesspolicy',
  shortNames: ['ap'],
  scope: 'Namespaced',
  spec: accessPolicySpec,
  status: policyStatus,
  labels: policyLabels,
  description: 'Rego request authorization attached to HTTPRoutes, GRPCRoutes or Gateways.',
  columns: [
    { name: 'Rule', type: 'string', jsonPath: '.spec.rule' },
    { name: 'Targets', type: 'string', jsonPath: '.spec.targetRefs[*].name' },
  ],
});

export const crds: readonly CustomResourceDefinition[] = [tenantCrd, rateLimitPolicyCrd, accessPolicyCrd];

/** config/crd/<file> for each CRD */
export function crdFileName(c: CustomResourceDefinition): string {
  return `${c.metadata.name}.yaml`;
}
