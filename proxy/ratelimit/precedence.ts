// Which RateLimitPolicy governs a (gateway, listener, route, rule) point. One policy governs a point, whole
// (limits are not merged across policies); the most specific target wins:
//   1. a route policy whose sectionName names the rule     3. a Gateway policy whose sectionName names the listener
//   2. a route policy without sectionName                  4. a Gateway policy without sectionName
// Two valid policies with the same target conflict: the older one (creationTimestamp, then namespace/name)
// wins, as Gateway API policy attachment prescribes, and the other is not enforced there (Conflicted).
// Invalid policies take no part. The attach hook and the status computation share this index, so what
// status reports is what the data path does.
import type { TargetRef } from '../../api/common.ts';
import type { RateLimitPolicy } from '../../api/ratelimitpolicy.ts';
import type { PolicyAttachmentPoint } from '../request-policy.ts';
import { validateRateLimitPolicy } from './validate.ts';

export type TargetLevel = 'RouteRule' | 'Route' | 'Listener' | 'Gateway';

export interface Attachment {
  readonly policy: RateLimitPolicy;
  /** namespace/name of the policy */
  readonly id: string;
  readonly targetIndex: number;
  readonly level: TargetLevel;
  /** the target as a key: "HTTPRoute/ns/name", "HTTPRoute/ns/name#rule", "Gateway/ns/name#listener" */
  readonly target: string;
}

export interface PolicyIndex {
  /** winner per target key */
  readonly winners: ReadonlyMap<string, Attachment>;
  /** losers: policy id → its conflicted targets and who beat it */
  readonly conflicts: ReadonlyMap<string, readonly { targetIndex: number; winner: string }[]>;
  /** policy id → validation problems */
  readonly invalid: ReadonlyMap<string, readonly string[]>;
  readonly policies: ReadonlyMap<string, RateLimitPolicy>;
}

export function policyId(p: { metadata: { namespace?: string; name: string } }): string {
  return `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
}

export function targetKey(namespace: string, ref: Pick<TargetRef, 'kind' | 'name' | 'sectionName'>): string {
  const base = `${ref.kind}/${namespace}/${ref.name}`;
  return ref.sectionName ? `${base}#${ref.sectionName}` : base;
}

export function indexPolicies(policies: readonly RateLimitPolicy[]): PolicyIndex {
  const invalid = new Map<string, string[]>();
  const byId = new Map<string, RateLimitPolicy>();
  const candidates = new Map<string, Attachment[]>();
  for (const policy of [...policies].sort(olderFirst)) {
    const id = policyId(policy);
    if (byId.has(id)) continue; // the same object twice (e.g. two files): the first read wins
    byId.set(id, policy);
    const problems = validateRateLimitPolicy(policy);
    if (problems.length > 0) {
      invalid.set(id, problems);
      continue;
    }
    const ns = policy.metadata.namespace ?? 'default';
    policy.spec.targetRefs.forEach((ref, targetIndex) => {
      const target = targetKey(ns, ref);
      const level = levelOf(ref);
      const list = candidates.get(target) ?? [];
      list.push({ policy, id, targetIndex, level, target });
      candidates.set(target, list);
    });
  }
  const winners = new Map<string, Attachment>();
  const conflicts = new Map<string, { targetIndex: number; winner: string }[]>();
  for (const [target, list] of candidates) {
    const [winner, ...losers] = list; // already oldest first
    winners.set(target, winner!);
    for (const l of losers) {
      const c = conflicts.get(l.id) ?? [];
      c.push({ targetIndex: l.targetIndex, winner: winner!.id });
      conflicts.set(l.id, c);
    }
  }
  return { winners, conflicts, invalid, policies: byId };
}

/** The policy that governs a point, or undefined when none does. */
export function governing(index: PolicyIndex, point: PolicyAttachmentPoint): Attachment | undefined {
  const { route, gateway } = point;
  const routeKey = `${route.kind}/${route.namespace}/${route.name}`;
  const gatewayKey = `Gateway/${gateway.namespace}/${gateway.name}`;
  return (
    (point.ruleName ? index.winners.get(`${routeKey}#${point.ruleName}`) : undefined) ??
    index.winners.get(routeKey) ??
    index.winners.get(`${gatewayKey}#${point.listener}`) ??
    index.winners.get(gatewayKey)
  );
}

function levelOf(ref: TargetRef): TargetLevel {
  if (ref.kind === 'Gateway') return ref.sectionName ? 'Listener' : 'Gateway';
  return ref.sectionName ? 'RouteRule' : 'Route';
}

function olderFirst(a: RateLimitPolicy, b: RateLimitPolicy): number {
  // A policy without a creationTimestamp (from files) ranks after every timestamped one.
  const ta = a.metadata.creationTimestamp ?? '\uffff';
  const tb = b.metadata.creationTimestamp ?? '\uffff';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ia = policyId(a);
  const ib = policyId(b);
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}
