// Every attached policy in force at a route rule, both kinds, in the order the data path asks them
// (AccessPolicies first — overrides, then the governing default — then RateLimitPolicies — the default,
// then overrides), from the same precedence indexes the attach hooks use. The route condition
// `tenantgate.io/PoliciesInForce` and `tenantgate explain` are built from it, so both tell what the data
// path does.
import type { Condition } from '../api/common.ts';
import { accessPoliciesInForce, type AccessPolicyIndex } from './access/attach.ts';
import type { Attachment, PolicyIndex } from './policy-attachment/precedence.ts';
import type { Section } from './policy-attachment/sections.ts';
import type { PolicyStatusResult } from './policy-attachment/status.ts';
import { rateLimitPoliciesInForce } from './ratelimit/attach.ts';
import type { PolicyIndex as RateLimitPolicyIndex } from './ratelimit/precedence.ts';
import type { PolicyAttachmentPoint } from './request-policy.ts';

/** The route condition type: on each status.parents entry of a route, the policies in force there. */
export const POLICIES_IN_FORCE = 'tenantgate.io/PoliciesInForce';

export interface PolicyInForce {
  kind: 'AccessPolicy' | 'RateLimitPolicy';
  /** namespace/name */
  id: string;
  section: Section;
  /** field path of the settings in force: 'spec', 'spec.defaults' or 'spec.overrides' */
  at: string;
  /** what it is attached to, e.g. 'Gateway/infra/shared#http' */
  target: string;
  /** invalid: an AccessPolicy then refuses every request (500); an invalid RateLimitPolicy is never in force */
  invalid: boolean;
}

export function policiesInForce(
  access: AccessPolicyIndex,
  rateLimit: RateLimitPolicyIndex,
  point: PolicyAttachmentPoint,
): PolicyInForce[] {
  const entry = (kind: PolicyInForce['kind'], index: PolicyIndex, a: Attachment): PolicyInForce => ({
    kind,
    id: a.id,
    section: a.section,
    at: a.at,
    target: a.target,
    invalid: index.invalid.has(a.id),
  });
  return [
    ...accessPoliciesInForce(access, point).map((a) => entry('AccessPolicy', access, a)),
    ...rateLimitPoliciesInForce(rateLimit, point).map((a) => entry('RateLimitPolicy', rateLimit, a)),
  ];
}

/** "AccessPolicy infra/cidrs (override on Gateway/infra/shared)" */
export function describeInForce(p: PolicyInForce): string {
  const role = p.section === 'overrides' ? 'override' : 'default';
  return `${p.kind} ${p.id} (${role} on ${p.target}${p.invalid ? ', invalid: refuses with 500' : ''})`;
}

/**
 * Per route and parent Gateway with at least one policy in force: the PoliciesInForce condition listing
 * them in order (per rule when the rules differ).
 */
export function policiesInForceConditions(
  access: AccessPolicyIndex,
  rateLimit: RateLimitPolicyIndex,
  points: readonly PolicyAttachmentPoint[],
  now: string,
): PolicyStatusResult['routes'] {
  const groups = new Map<string, { point: PolicyAttachmentPoint; rules: Map<string, string> }>();
  for (const p of points) {
    const k = `${p.route.kind}/${p.route.namespace}/${p.route.name}\u0000${p.gateway.namespace}/${p.gateway.name}`;
    const g = groups.get(k) ?? { point: p, rules: new Map<string, string>() };
    groups.set(k, g);
    const list = policiesInForce(access, rateLimit, p).map(describeInForce).join(', ');
    const rule = p.ruleName ? `rule ${p.ruleIndex} (${p.ruleName})` : `rule ${p.ruleIndex}`;
    // a route on two listeners of one Gateway: the first listener's wording for a rule stands
    if (!g.rules.has(rule)) g.rules.set(rule, list);
  }
  const out: PolicyStatusResult['routes'] = [];
  for (const { point, rules } of groups.values()) {
    const lists = [...rules.values()];
    if (lists.every((l) => l === '')) continue;
    const same = lists.every((l) => l === lists[0]);
    const message = same
      ? `in force, in the order requests meet them: ${lists[0]}`
      : 'in force, in the order requests meet them: ' +
        [...rules].map(([rule, l]) => `${rule}: ${l || 'none'}`).join('; ');
    const condition: Condition = {
      type: POLICIES_IN_FORCE,
      status: 'True',
      reason: 'PoliciesInForce',
      message,
      lastTransitionTime: now,
    };
    const { route, gateway } = point;
    out.push({
      kind: route.kind,
      namespace: route.namespace,
      name: route.name,
      gateway: { ...gateway },
      condition,
    });
  }
  return out;
}
