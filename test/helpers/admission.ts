// Shared by the webhook and audit unit tests: the Rego tests' inventory and AdmissionReview builders.
import { goodRouteSpec } from './policies.ts';
import type { AdmissionRequest } from '../../policies/types.ts';

export { goodRouteSpec, inventory } from './policies.ts';

export function routeRequest(
  spec: Record<string, unknown> = goodRouteSpec,
  extra: Partial<AdmissionRequest> = {},
): AdmissionRequest {
  return {
    uid: 'b5e4c0de-0000-4000-8000-000000000001',
    kind: { group: 'gateway.networking.k8s.io', version: 'v1', kind: 'HTTPRoute' },
    resource: { group: 'gateway.networking.k8s.io', version: 'v1', resource: 'httproutes' },
    operation: 'CREATE',
    namespace: 'acme-web',
    name: 'shop',
    userInfo: { username: 'alice', groups: ['system:authenticated'] },
    object: {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'shop', namespace: 'acme-web' },
      spec,
    },
    oldObject: null,
    dryRun: false,
    ...extra,
  };
}

export function review(request: unknown) {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request };
}
