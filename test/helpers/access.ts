// Builders for unit tests and benchmarks of the access module: AccessPolicies, Secrets, Namespaces and a
// policy engine on the built-in bundle. (End-to-end tests go through a real `tenantgate proxy` process
// instead: test/e2e/policies-harness.ts.)
import type { AccessPolicy } from '../../api/accesspolicy.ts';
import { PolicyEngine } from '../../policies/engine.ts';
import { builtinBundleBytes } from './policies.ts';
import type { Namespace, Secret } from '../../proxy/model/gateway-api.ts';
import { policyObject, type PolicyObjectOptions } from './policy-attachment.ts';

export { point, request } from './ratelimit.ts';

export function accessPolicy(
  options: PolicyObjectOptions & { rule: string; parameters?: Record<string, unknown> },
): AccessPolicy {
  return policyObject(
    { ...options, kind: 'AccessPolicy', defaultName: 'access' },
    { rule: options.rule, ...(options.parameters !== undefined ? { parameters: options.parameters } : {}) },
  );
}

/** A Secret whose data holds the given entries (base64-encoded, as the API server serves them). */
export function secret(namespace: string, name: string, entries: Record<string, string>): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { namespace, name },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

export function namespace(name: string, tenant?: string): Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, ...(tenant ? { labels: { 'tenantgate.io/tenant': tenant } } : {}) },
  };
}

/** The real engine on the real built-in bundle (dist/policies/bundle.tar.gz from `make policies`). */
export async function builtinEngine(): Promise<PolicyEngine> {
  return PolicyEngine.create({ builtinBundle: builtinBundleBytes() });
}
