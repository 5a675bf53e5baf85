// Test builders shared by the policy kinds the proxy enforces: the metadata and targetRefs every
// attached policy carries, filled with the defaults the kinds' tests assume.
import type { TargetRef } from '../../api/common.ts';
import type { PolicyStatusResult } from '../../proxy/policy-attachment/status.ts';

export interface PolicyObjectOptions {
  name?: string;
  namespace?: string;
  /** Each ref defaults to the HTTPRoute `api`; the default list is that one ref. */
  targetRefs?: Partial<TargetRef>[];
  creationTimestamp?: string;
  generation?: number;
}

/** A policy object of `kind` with `spec` after its targetRefs; `defaultName` names it when options don't. */
export function policyObject<K extends string, S extends object>(
  options: PolicyObjectOptions & { kind: K; defaultName: string },
  spec: S,
) {
  return {
    apiVersion: 'tenantgate.io/v1alpha1' as const,
    kind: options.kind,
    metadata: {
      name: options.name ?? options.defaultName,
      namespace: options.namespace ?? 'team',
      ...(options.creationTimestamp ? { creationTimestamp: options.creationTimestamp } : {}),
      ...(options.generation !== undefined ? { generation: options.generation } : {}),
    },
    spec: {
      targetRefs: (options.targetRefs ?? [{ kind: 'HTTPRoute', name: 'api' }]).map((r) => ({
        group: 'gateway.networking.k8s.io',
        kind: 'HTTPRoute',
        name: 'api',
        ...r,
      })) as TargetRef[],
      ...spec,
    },
  };
}

/** "ancestorKind/ns/name Accepted=True/Reason Enforced=False/Reason" per ancestor of one policy. */
export function ancestorSummary(result: PolicyStatusResult, name: string): string[] {
  const p = result.policies.find((x) => x.name === name)!;
  return p.status.ancestors.map((a) => {
    const c = a.conditions.map((x) => `${x.type}=${x.status}/${x.reason}`).join(' ');
    return `${a.ancestorRef.kind}/${a.ancestorRef.namespace}/${a.ancestorRef.name} ${c}`;
  });
}
