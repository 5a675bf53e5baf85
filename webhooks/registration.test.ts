import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultRegistrationYaml } from './registration-yaml.ts';
import { validatingWebhookConfiguration, WEBHOOK_TIMEOUT_SECONDS } from './registration.ts';

describe('webhook registration', () => {
  it('config/webhook YAML is generated from the registration code', () => {
    const committed = readFileSync(
      join(import.meta.dirname, '..', 'config', 'webhook', 'validating-webhook-configuration.yaml'),
      'utf8',
    );
    expect(
      committed,
      'stale: node webhooks/registration-yaml.ts > config/webhook/validating-webhook-configuration.yaml',
    ).toBe(defaultRegistrationYaml());
  });

  it('fails closed, has side effects only outside dry runs (quota reservations), answers within 5 s, and spares kube-system and the operator namespace', () => {
    const [webhook] = validatingWebhookConfiguration({
      clientConfig: { url: 'https://127.0.0.1:1/validate' },
      caBundlePem: 'PEM',
      operatorNamespace: 'ops',
    }).webhooks;
    expect(webhook).toMatchObject({
      matchPolicy: 'Equivalent',
      sideEffects: 'NoneOnDryRun',
      failurePolicy: 'Fail',
      admissionReviewVersions: ['v1'],
      clientConfig: { url: 'https://127.0.0.1:1/validate', caBundle: Buffer.from('PEM').toString('base64') },
      namespaceSelector: {
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'ops'] },
        ],
      },
    });
    expect(WEBHOOK_TIMEOUT_SECONDS).toBeLessThanOrEqual(5);
    const resources = webhook!.rules.flatMap((r) =>
      r.resources.map((res) => `${r.apiGroups[0]}/${res}:${r.operations.join(',')}`),
    );
    expect(resources).toEqual([
      'gateway.networking.k8s.io/httproutes:CREATE,UPDATE',
      'gateway.networking.k8s.io/grpcroutes:CREATE,UPDATE',
      'gateway.networking.k8s.io/referencegrants:CREATE,UPDATE,DELETE',
      'tenantgate.io/ratelimitpolicies:CREATE,UPDATE',
      'tenantgate.io/accesspolicies:CREATE,UPDATE',
      'tenantgate.io/tenants:CREATE,UPDATE',
      '/namespaces:CREATE,UPDATE',
      '/namespaces/status:CREATE,UPDATE',
      '/namespaces/finalize:CREATE,UPDATE',
    ]);
  });
});
