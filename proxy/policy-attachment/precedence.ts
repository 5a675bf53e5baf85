// Which policies of one kind are in force at a (gateway, listener, route, rule) point, per Gateway API policy
// attachment (GEP-713) with defaults and overrides.
//
// Defaults (spec.defaults, or the kind's settings at the top level of spec): one governs a point, whole
// (defaults are not merged); the most specific target wins:
//   1. a route policy whose sectionName names the rule     3. a Gateway policy whose sectionName names the listener
//   2. a route policy without sectionName                  4. a Gateway policy without sectionName
// Two defaults with the same target conflict: the older one (creationTimestamp, then namespace/name) wins,
// as Gateway API policy attachment prescribes, and the other is not enforced there (Conflicted).
//
// Overrides (spec.overrides) on a Gateway or a listener are in force at every point under it, in addition to
// the governing default, and nothing below can take them away: several of them all apply (Gateway-wide
// first, then the listener's, oldest first), none conflicts with another. An override on a route or a rule
// has nothing below it to override, so it is simply the most specific policy there: it ranks as a default
// of that target, ahead of a default with the same target.
//
// What an invalid policy does is the kind's choice: 'ignore' (rate limits: it takes no part, so a broken
// route policy does not switch off the Gateway's) or 'govern' (access rules: it still governs its targets,
// and the kind makes it refuse every request there, so a broken authorization rule fails closed instead of
// opening the route). The attach hook, the status computation and `tenantgate explain` share this index,
// so what status and explain report is what the data path does.
import type { TargetRef } from '../../api/common.ts';
import type { PolicyAttachmentPoint } from '../request-policy.ts';
import type { PolicySection, Section } from './sections.ts';
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
  /** which part of the policy is attached: its defaults or its overrides */
  readonly section: Section;
  /** the settings of that part (spec, spec.defaults or spec.overrides) */
  readonly body: Record<string, unknown>;
  /** field path of body, e.g. 'spec.overrides' */
  readonly at: string;
}

export interface PolicyIndex<P extends AttachablePolicy = AttachablePolicy> {
  /** governing default per target key (route-level overrides rank as defaults there) */
  readonly winners: ReadonlyMap<string, Attachment<P>>;
  /** Gateway- and listener-level overrides per target key, oldest first; all of them apply */
  readonly overrides: ReadonlyMap<string, readonly Attachment<P>[]>;
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
  /** the policy's defaults and overrides (policySections); default: spec itself is its defaults */
  sections?: (policy: P) => readonly PolicySection[];
}

export function indexPolicies<P extends AttachablePolicy>(
  policies: readonly P[],
  options: IndexOptions<P>,
): PolicyIndex<P> {
  const mode = options.invalid ?? 'ignore';
  const sectionsOf =
    options.sections ??
    ((p: P): readonly PolicySection[] => [
      { section: 'defaults', body: p.spec as unknown as Record<string, unknown>, at: 'spec' },
    ]);
  const invalid = new Map<string, readonly string[]>();
  const byId = new Map<string, P>();
  const candidates = new Map<string, Attachment<P>[]>();
  const overrides = new Map<string, Attachment<P>[]>();
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
    const sections = sectionsOf(policy);
    // usableTargetRefs, not spec.targetRefs: an invalid policy that governs may have malformed entries
    for (const { ref, targetIndex } of usableTargetRefs(policy)) {
      const target = targetKey(ns, ref);
      const level = levelOf(ref);
      for (const { section, body, at } of sections) {
        const a: Attachment<P> = { policy, id, targetIndex, level, target, section, body, at };
        const stacks = section === 'overrides' && (level === 'Gateway' || level === 'Listener');
        const into = stacks ? overrides : candidates;
        const list = into.get(target) ?? [];
        if (list.some((x) => x.id === id && x.section === section)) continue; // a duplicated targetRef
        list.push(a);
        into.set(target, list);
      }
    }
  }
  const winners = new Map<string, Attachment<P>>();
  const conflicts = new Map<string, { targetIndex: number; winner: string }[]>();
  for (const [target, list] of candidates) {
    // oldest first already; a route-level override ranks ahead of the defaults of the same target
    const ranked = [
      ...list.filter((a) => a.section === 'overrides'),
      ...list.filter((a) => a.section !== 'overrides'),
    ];
    const [winner, ...losers] = ranked;
    winners.set(target, winner!);
    for (const l of losers) {
      if (l.id === winner!.id) continue; // the same policy's defaults under its own route-level override
      const c = conflicts.get(l.id) ?? [];
      c.push({ targetIndex: l.targetIndex, winner: winner!.id });
      conflicts.set(l.id, c);
    }
  }
  return { winners, overrides, conflicts, invalid, policies: byId, invalidMode: mode };
}

/** The default that governs a point (the most specific one), or undefined when none does. */
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

/** The Gateway- and listener-level overrides in force at a point: Gateway-wide first, oldest first. */
export function overridesAt<P extends AttachablePolicy>(
  index: PolicyIndex<P>,
  point: PolicyAttachmentPoint,
): readonly Attachment<P>[] {
  if (index.overrides.size === 0) return [];
  const gatewayKey = `Gateway/${point.gateway.namespace}/${point.gateway.name}`;
  return [
    ...(index.overrides.get(gatewayKey) ?? []),
    ...(index.overrides.get(`${gatewayKey}#${point.listener}`) ?? []),
  ];
}

/**
 * Every attachment in force at a point: the overrides (overridesAt), then the governing default. Each one
 * must allow a request; the kind decides the order it evaluates them in.
 */
export function inForce<P extends AttachablePolicy>(
  index: PolicyIndex<P>,
  point: PolicyAttachmentPoint,
): { overrides: readonly Attachment<P>[]; governing: Attachment<P> | undefined } {
  return { overrides: overridesAt(index, point), governing: governing(index, point) };
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
