// The ValidatingWebhookConfiguration that makes the API server call us: which kinds and operations, and
// how to reach us (the in-cluster Service, or a URL for `tenantgate local` and the tests). The YAML in
// config/webhook/ is this object rendered for the default install (registration.test.ts keeps them equal).
import { applyObject } from '../kube/apply.ts';
import type { KubeClient } from '../kube/client.ts';
import { VALIDATE_PATH } from './server.ts';

export const WEBHOOK_CONFIGURATION_NAME = 'tenantgate';
export const WEBHOOK_NAME = 'validate.tenantgate.io';
export const DEFAULT_OPERATOR_NAMESPACE = 'tenantgate-system';
export const DEFAULT_SERVICE_NAME = 'tenantgate-webhook';
export const WEBHOOK_TIMEOUT_SECONDS = 5;

export type ClientConfig = { service: { namespace: string; name: string; port?: number } } | { url: string };

export interface RegistrationOptions {
  clientConfig: ClientConfig;
  /** PEM of the CAs that sign the serving certificate; left out when cert-manager injects it */
  caBundlePem?: string;
  /** exempt from the webhook, with kube-system, so that a dead webhook cannot lock out its own repair */
  operatorNamespace: string;
  name?: string;
  /** only objects with these labels (e.g. tests sharing one API server); default: every object */
  objectSelector?: { matchLabels?: Record<string, string> };
}

const ALL_VERSIONS = ['*'];

/** Every kind the policies look at, in every served version (matchPolicy Equivalent covers renames too). */
export const WEBHOOK_RULES = [
  {
    apiGroups: ['gateway.networking.k8s.io'],
    apiVersions: ALL_VERSIONS,
    operations: ['CREATE', 'UPDATE'],
    resources: ['httproutes', 'grpcroutes'],
    scope: 'Namespaced',
  },
  {
    apiGroups: ['gateway.networking.k8s.io'],
    apiVersions: ALL_VERSIONS,
    operations: ['CREATE', 'UPDATE', 'DELETE'],
    resources: ['referencegrants'],
    scope: 'Namespaced',
  },
  {
    apiGroups: ['tenantgate.io'],
    apiVersions: ALL_VERSIONS,
    operations: ['CREATE', 'UPDATE'],
    resources: ['ratelimitpolicies', 'accesspolicies'],
    scope: 'Namespaced',
  },
  {
    apiGroups: ['tenantgate.io'],
    apiVersions: ALL_VERSIONS,
    operations: ['CREATE', 'UPDATE'],
    resources: ['tenants'],
    scope: 'Cluster',
  },
  {
    // UPDATE: the platform labels; CREATE and the subresources (which write metadata too) only when they
    // hand a namespace to a Tenant (see MATCH_CONDITIONS)
    apiGroups: [''],
    apiVersions: ['v1'],
    operations: ['CREATE', 'UPDATE'],
    resources: ['namespaces', 'namespaces/status', 'namespaces/finalize'],
    scope: 'Cluster',
  },
];

const ADOPT = "'tenantgate.io/adopt-by'";

/**
 * Namespace CREATEs and subresource writes reach the webhook only when they set or change the adopt-by
 * annotation (adoption-gate.ts), so creating namespaces does not depend on the webhook; everything else
 * the rules name always does.
 */
export const MATCH_CONDITIONS = [
  {
    name: 'namespace-writes-the-webhook-checks',
    expression: [
      `!(request.resource.group == '' && request.resource.resource == 'namespaces')`,
      `(request.operation == 'UPDATE' && request.subResource == '')`,
      `(has(object.metadata.annotations) && ${ADOPT} in object.metadata.annotations && (oldObject == null || !has(oldObject.metadata.annotations) || !(${ADOPT} in oldObject.metadata.annotations) || oldObject.metadata.annotations[${ADOPT}] != object.metadata.annotations[${ADOPT}]))`,
    ].join(' || '),
  },
];

export function validatingWebhookConfiguration(options: RegistrationOptions) {
  const clientConfig =
    'url' in options.clientConfig
      ? { url: options.clientConfig.url }
      : {
          service: {
            namespace: options.clientConfig.service.namespace,
            name: options.clientConfig.service.name,
            path: VALIDATE_PATH,
            port: options.clientConfig.service.port ?? 443,
          },
        };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: {
      name: options.name ?? WEBHOOK_CONFIGURATION_NAME,
      labels: { 'app.kubernetes.io/name': 'tenantgate' },
    },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        admissionReviewVersions: ['v1'],
        clientConfig: {
          ...clientConfig,
          ...(options.caBundlePem ? { caBundle: Buffer.from(options.caBundlePem).toString('base64') } : {}),
        },
        rules: WEBHOOK_RULES,
        matchConditions: MATCH_CONDITIONS,
        matchPolicy: 'Equivalent',
        // a counted CREATE writes its reservation to the tenant's ledger (quota.ts); a dry run writes nothing
        sideEffects: 'NoneOnDryRun',
        failurePolicy: 'Fail',
        timeoutSeconds: WEBHOOK_TIMEOUT_SECONDS,
        namespaceSelector: {
          matchExpressions: [
            {
              key: 'kubernetes.io/metadata.name',
              operator: 'NotIn',
              values: ['kube-system', options.operatorNamespace],
            },
          ],
        },
        ...(options.objectSelector ? { objectSelector: options.objectSelector } : {}),
      },
    ],
  };
}

/** Creates or updates the configuration (server-side apply); called again when the caBundle changes. */
export async function registerWebhook(client: KubeClient, options: RegistrationOptions): Promise<void> {
  await applyObject(client, validatingWebhookConfiguration(options));
}
