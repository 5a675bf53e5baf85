// Which policy of one kind governs a (gateway, listener, route, rule) point. One policy governs a point,
// whole (policies are not merged); the most specific target wins:
//   1. a route policy whose sectionName names the rule     3. a Gateway policy whose sectionName names the listener
//   2. a route policy without sectionName                  4. a Gateway policy without sectionName
// Two policies with the same target conflict: the older one (creationTimestamp, then namespace/name) wins,
// as Gateway API policy attachment prescribes, and the other is not enforced there (Conflicted).
//
// What an invalid policy does is the kind's choice: 'ignore' (rate limits: it takes no part, so a broken
// route policy does not switch off the Gateway's) or 'govern' (access rules: it still governs its targets,
// and the kind makes it refuse every request there, so a broken authorization rule fails closed instead of
// opening the route). The attach hook and the status computation share this index, so what status reports
// is what the data path does.
import type { TargetRef } from '../../api/common.ts';
import type { PolicyAttachmentPoint } from '../request-policy.ts';
import { policyId, policyNamespace, targetKey, usableTargetRefs, type AttachablePolicy } from './targets.ts';

export type TargetLevel = 'RouteRule' | 'Route' | 'Listener' | 'Gateway';

export type InvalidPolicyMode = 'ignore' | 'govern';

export interface Attachment<P extends AttachablePolicy = AttachablePolicy> {
  readonly policy: P;
  /** namespace/name of the policy */
  readonly id: string;
  readonly targetIndex: number;
  readonly level: TargetLevel;
  /** the target as a key (targetKey) */
  readonly target: string;
}

export interface PolicyIndex<P extends AttachablePolicy = AttachablePolicy> {
  /** winner per target key */
  readonly winners: ReadonlyMap<string, Attachment<P>>;
  /** losers: policy id → its conflicted targets and who beat it */
  readonly conflicts: ReadonlyMap<string, readonly { targetIndex: number; winner: string }[]>;
  /** policy id → validation problems */
  readonly invalid: ReadonlyMap<string, readonly string[]>;
  readonly policies: ReadonlyMap<string, P>;
  readonly invalidMode: InvalidPolicyMode;
}

export interface IndexOptions<P> {
  /** every problem of the policy, as "field: rule (got value)"; empty when it is valid */
  validate: (policy: P) => readonly string[];
  /** default 'ignore' */
  invalid?: InvalidPolicyMode;
}

export function indexPolicies<P extends AttachablePolicy>(
  policies: readonly P[],
  options: IndexOptions<P>,
): PolicyIndex<P> {
  const mode = options.invalid ?? 'ignore';
  const invalid = new Map<string, readonly string[]>();
  const byId = new Map<string, P>();
  const candidates = new Map<string, Attachment<P>[]>();
  for (const policy of [...policies].sort(olderFirst)) {
    const id = policyId(policy);
    if (byId.has(id)) continue; // the same object twice (e.g. two files): the first read wins
    byId.set(id, policy);
    const problems = options.validate(policy);
    if (problems.length > 0) {
      invalid.set(id, problems);
      if (mode === 'ignore') continue;
    }
    const ns = policyNamespace(policy);
    // usableTargetRefs, not spec.targetRefs: an invalid policy that governs may have malformed entries
    for (const { ref, targetIndex } of usableTargetRefs(policy)) {
      const target = targetKey(ns, ref);
      const list = candidates.get(target) ?? [];
      if (list.some((a) => a.id === id)) continue; // a duplicated targetRef (invalid anyway)
      list.push({ policy, id, targetIndex, level: levelOf(ref), target });
      candidates.set(target, list);
    }
  }
  const winners = new Map<string, Attachment<P>>();
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
  return { winners, conflicts, invalid, policies: byId, invalidMode: mode };
}

/** The policy that governs a point, or undefined when none does. */
export function governing<P extends AttachablePolicy>(
  index: PolicyIndex<P>,
  point: PolicyAttachmentPoint,
): Attachment<P> | undefined {
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

function olderFirst(a: AttachablePolicy, b: AttachablePolicy): number {
  // A policy without a creationTimestamp (from files) ranks after every timestamped one.
  const ta = a.metadata.creationTimestamp ?? '\uffff';
  const tb = b.metadata.creationTimestamp ?? '\uffff';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ia = policyId(a);
  const ib = policyId(b);
  return ia < ib ? -1 : ia > ib ? 1 : 0;
}
