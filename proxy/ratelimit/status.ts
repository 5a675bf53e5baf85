// The Gateway API status that the rate-limit configuration implies, as a pure function of the inputs and
// of the points the route table serves (the same points its compiler passed to the attach hook), so the
// status a policy shows is what the data path does.
//
// Per policy, one `ancestors` entry per Gateway it reaches (through a route or directly):
//   Accepted  True/Accepted, or False with Invalid (spec rejected), TargetNotFound (no such route, rule,
//             Gateway or listener) or Conflicted (an older policy has the same target).
//   Enforced  True/Enforced when it governs at least one route rule under that Gateway (or no route is
//             attached yet); False/Overridden when more specific policies govern every one of them;
//             False with the Accepted reason when not accepted.
// A target that does not exist has no Gateway to report under, so the entry names the target itself.
// Per route and parent Gateway: the `tenantgate.io/RateLimitPolicyAffected` condition, True when a
// policy governs some rule of it there, False/Invalid when it is targeted only by invalid policies.
import { GATEWAY_CONTROLLER_NAME, type Condition, type TargetRef } from '../../api/common.ts';
import type { RateLimitPolicy } from '../../api/ratelimitpolicy.ts';
import type { PolicyAttachmentPoint } from '../request-policy.ts';
import { governing, indexPolicies, targetKey, type PolicyIndex } from './precedence.ts';

export const RATE_LIMIT_AFFECTED = 'tenantgate.io/RateLimitPolicyAffected';
const GW_GROUP = 'gateway.networking.k8s.io';

type RouteKind = 'HTTPRoute' | 'GRPCRoute';
interface Meta {
  metadata: { namespace?: string; name: string };
}

export interface RateLimitStatusInputs {
  policies: readonly RateLimitPolicy[];
  /** the Gateways this controller serves */
  gateways: readonly (Meta & { spec: { listeners: readonly { name: string }[] } })[];
  httpRoutes: readonly (Meta & { spec: { rules?: readonly { name?: string }[] } })[];
  grpcRoutes: readonly (Meta & { spec: { rules?: readonly { name?: string }[] } })[];
  /** every point the route table serves */
  points: readonly PolicyAttachmentPoint[];
  /** lastTransitionTime for the conditions (the writer keeps the old one when a condition is unchanged) */
  now: string;
  controllerName?: string;
  /** pass the compiled index to share its work; computed from `policies` otherwise */
  index?: PolicyIndex;
}

export interface AncestorRef {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface PolicyAncestorStatus {
  ancestorRef: AncestorRef;
  controllerName: string;
  conditions: Condition[];
}

export interface RateLimitStatusResult {
  policies: { namespace: string; name: string; status: { ancestors: PolicyAncestorStatus[] } }[];
  /** apply `condition` to every status.parents entry of the route whose parentRef is `gateway` */
  routes: {
    kind: RouteKind;
    namespace: string;
    name: string;
    gateway: { namespace: string; name: string };
    condition: Condition;
  }[];
}

type Reason = 'Accepted' | 'Invalid' | 'TargetNotFound' | 'Conflicted';

interface TargetOutcome {
  ancestor: AncestorRef;
  reason: Reason;
  message: string;
  /** Accepted targets: route rules under this ancestor governed by the policy, and all it reaches */
  governed: number;
  reachable: number;
  overriddenBy: Set<string>;
}

const MAX_ANCESTORS = 16;

export function computeRateLimitPolicyStatus(input: RateLimitStatusInputs): RateLimitStatusResult {
  const index = input.index ?? indexPolicies(input.policies);
  const world = describeWorld(input);
  const policies: RateLimitStatusResult['policies'] = [];
  for (const [id, policy] of index.policies) {
    const outcomes = policyOutcomes(id, policy, index, world, input.points);
    const ancestors = aggregate(
      outcomes,
      policy.metadata.generation,
      input.now,
      input.controllerName ?? GATEWAY_CONTROLLER_NAME,
    );
    policies.push({ namespace: ns(policy), name: policy.metadata.name, status: { ancestors } });
  }
  return { policies, routes: routeConditions(index, input) };
}

interface World {
  gateways: Map<string, Set<string>>; // "ns/name" → listener names
  routes: Map<string, Set<string>>; // "Kind/ns/name" → rule names
}

function describeWorld(input: RateLimitStatusInputs): World {
  const gateways = new Map<string, Set<string>>();
  for (const g of input.gateways)
    gateways.set(`${ns(g)}/${g.metadata.name}`, new Set(g.spec.listeners.map((l) => l.name)));
  const routes = new Map<string, Set<string>>();
  const addRoutes = (kind: RouteKind, list: RateLimitStatusInputs['httpRoutes']) => {
    for (const r of list) {
      const names = (r.spec.rules ?? []).map((x) => x.name).filter((n): n is string => !!n);
      routes.set(`${kind}/${ns(r)}/${r.metadata.name}`, new Set(names));
    }
  };
  addRoutes('HTTPRoute', input.httpRoutes);
  addRoutes('GRPCRoute', input.grpcRoutes);
  return { gateways, routes };
}

function policyOutcomes(
  id: string,
  policy: RateLimitPolicy,
  index: PolicyIndex,
  world: World,
  points: readonly PolicyAttachmentPoint[],
): TargetOutcome[] {
  const problems = index.invalid.get(id);
  const refs = usableTargetRefs(policy);
  const outcomes: TargetOutcome[] = [];
  refs.forEach(({ ref, targetIndex }) => {
    const at = `spec.targetRefs[${targetIndex}]`;
    const relevant = points.filter((p) => reaches(ref, ns(policy), p));
    const found = targetFound(ref, ns(policy), world);
    // A rule or listener name that does not exist is still reported under the Gateways the route uses.
    const around = ref.sectionName
      ? points.filter((p) => reaches({ ...ref, sectionName: undefined }, ns(policy), p))
      : relevant;
    const ancestors = ancestorsOf(ref, ns(policy), around, found.exists);
    for (const ancestor of ancestors) {
      const base = { ancestor, governed: 0, reachable: 0, overriddenBy: new Set<string>() };
      if (problems) {
        outcomes.push({ ...base, reason: 'Invalid', message: problems.join('; ') });
      } else if (!found.exists || found.missingSection) {
        outcomes.push({ ...base, reason: 'TargetNotFound', message: `${at}: ${found.message}` });
      } else {
        const conflict = index.conflicts.get(id)?.find((c) => c.targetIndex === targetIndex);
        if (conflict) {
          const msg = `${at}: ${conflict.winner} is older and targets the same ${ref.kind}; it takes precedence`;
          outcomes.push({ ...base, reason: 'Conflicted', message: msg });
          continue;
        }
        const here = relevant.filter((p) => ancestor.kind !== 'Gateway' || isUnder(p, ancestor));
        const outcome: TargetOutcome = { ...base, reason: 'Accepted', message: '', reachable: here.length };
        const key = targetKey(ns(policy), ref);
        for (const p of here) {
          const g = governing(index, p)!;
          if (g.id === id && g.target === key) outcome.governed++;
          else outcome.overriddenBy.add(g.id);
        }
        outcomes.push(outcome);
      }
    }
  });
  return outcomes;
}

/** targetRefs well-formed enough to locate, even in an invalid policy (so its status can say why). */
function usableTargetRefs(policy: RateLimitPolicy): { ref: TargetRef; targetIndex: number }[] {
  const refs: unknown = (policy.spec as { targetRefs?: unknown } | undefined)?.targetRefs;
  if (!Array.isArray(refs)) return [];
  const out: { ref: TargetRef; targetIndex: number }[] = [];
  refs.forEach((r: Partial<TargetRef> | null, targetIndex) => {
    const ok =
      r && typeof r.name === 'string' && ['Gateway', 'HTTPRoute', 'GRPCRoute'].includes(r.kind as string);
    if (ok) out.push({ ref: r as TargetRef, targetIndex });
  });
  return out;
}

function reaches(ref: TargetRef, namespace: string, p: PolicyAttachmentPoint): boolean {
  if (ref.kind === 'Gateway') {
    return (
      p.gateway.namespace === namespace &&
      p.gateway.name === ref.name &&
      (!ref.sectionName || p.listener === ref.sectionName)
    );
  }
  const r = p.route;
  return (
    r.kind === ref.kind &&
    r.namespace === namespace &&
    r.name === ref.name &&
    (!ref.sectionName || p.ruleName === ref.sectionName)
  );
}

function targetFound(
  ref: TargetRef,
  namespace: string,
  world: World,
): { exists: boolean; missingSection: boolean; message: string } {
  const isGw = ref.kind === 'Gateway';
  const sections = isGw
    ? world.gateways.get(`${namespace}/${ref.name}`)
    : world.routes.get(`${ref.kind}/${namespace}/${ref.name}`);
  if (!sections)
    return {
      exists: false,
      missingSection: false,
      message: `${ref.kind} ${namespace}/${ref.name} not found`,
    };
  if (ref.sectionName && !sections.has(ref.sectionName)) {
    const what = isGw ? 'listener' : 'rule';
    return {
      exists: true,
      missingSection: true,
      message: `${ref.kind} ${namespace}/${ref.name} has no ${what} named ${ref.sectionName}`,
    };
  }
  return { exists: true, missingSection: false, message: '' };
}

/** The Gateways a target is reached through; the target itself when there is no Gateway to name. */
function ancestorsOf(
  ref: TargetRef,
  namespace: string,
  points: readonly PolicyAttachmentPoint[],
  exists: boolean,
): AncestorRef[] {
  if (ref.kind === 'Gateway') return [{ group: GW_GROUP, kind: 'Gateway', namespace, name: ref.name }];
  const seen = new Map<string, AncestorRef>();
  for (const p of points) {
    const a = { group: GW_GROUP, kind: 'Gateway', namespace: p.gateway.namespace, name: p.gateway.name };
    seen.set(`${a.namespace}/${a.name}`, a);
  }
  if (seen.size > 0) return [...seen.values()];
  // A route attached nowhere has no ancestor yet; a missing one is reported under its own name.
  return exists ? [] : [{ group: GW_GROUP, kind: ref.kind, namespace, name: ref.name }];
}

function isUnder(p: PolicyAttachmentPoint, a: AncestorRef): boolean {
  return p.gateway.namespace === a.namespace && p.gateway.name === a.name;
}

const FAILURE_ORDER: Reason[] = ['Invalid', 'TargetNotFound', 'Conflicted'];

function aggregate(
  outcomes: TargetOutcome[],
  generation: number | undefined,
  now: string,
  controllerName: string,
): PolicyAncestorStatus[] {
  const byAncestor = new Map<string, TargetOutcome[]>();
  for (const o of outcomes) {
    const k = `${o.ancestor.kind}/${o.ancestor.namespace}/${o.ancestor.name}`;
    byAncestor.set(k, [...(byAncestor.get(k) ?? []), o]);
  }
  const cond = (type: string, ok: boolean, reason: string, message: string): Condition => ({
    type,
    status: ok ? 'True' : 'False',
    reason,
    message,
    lastTransitionTime: now,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  });
  const result: PolicyAncestorStatus[] = [];
  for (const key of [...byAncestor.keys()].sort()) {
    const list = byAncestor.get(key)!;
    const accepted = list.filter((o) => o.reason === 'Accepted');
    const failed = list.filter((o) => o.reason !== 'Accepted');
    failed.sort((a, b) => FAILURE_ORDER.indexOf(a.reason) - FAILURE_ORDER.indexOf(b.reason));
    const failures = [...new Set(failed.map((o) => o.message))].join('; ');
    const conditions: Condition[] = [];
    if (accepted.length === 0) {
      const reason = failed[0]!.reason;
      conditions.push(cond('Accepted', false, reason, failures), cond('Enforced', false, reason, failures));
    } else {
      conditions.push(
        cond('Accepted', true, 'Accepted', failures ? `accepted; but ${failures}` : 'accepted'),
      );
      conditions.push(enforced(accepted, cond));
    }
    result.push({ ancestorRef: list[0]!.ancestor, controllerName, conditions });
  }
  return result.slice(0, MAX_ANCESTORS);
}

function enforced(
  accepted: TargetOutcome[],
  cond: (t: string, ok: boolean, r: string, m: string) => Condition,
): Condition {
  const governed = accepted.reduce((n, o) => n + o.governed, 0);
  const reachable = accepted.reduce((n, o) => n + o.reachable, 0);
  const by = [...new Set(accepted.flatMap((o) => [...o.overriddenBy]))].sort();
  const names = by.slice(0, 5).join(', ') + (by.length > 5 ? `, and ${by.length - 5} more` : '');
  if (reachable === 0)
    return cond('Enforced', true, 'Enforced', 'no route is attached yet; enforced on routes as they attach');
  if (governed === 0)
    return cond(
      'Enforced',
      false,
      'Overridden',
      `more specific policies govern every route rule here: ${names}`,
    );
  const partial = governed < reachable ? `; overridden on ${reachable - governed} by ${names}` : '';
  return cond('Enforced', true, 'Enforced', `enforced on ${governed} route rule(s)${partial}`);
}

function routeConditions(index: PolicyIndex, input: RateLimitStatusInputs): RateLimitStatusResult['routes'] {
  const groups = new Map<string, { point: PolicyAttachmentPoint; governors: Set<string> }>();
  for (const p of input.points) {
    const k = `${p.route.kind}/${p.route.namespace}/${p.route.name}\u0000${p.gateway.namespace}/${p.gateway.name}`;
    const g = groups.get(k) ?? { point: p, governors: new Set<string>() };
    const governor = governing(index, p);
    if (governor) g.governors.add(governor.id);
    groups.set(k, g);
  }
  const invalidTargeting = invalidPoliciesByRoute(index);
  const out: RateLimitStatusResult['routes'] = [];
  for (const { point, governors } of groups.values()) {
    const { route, gateway } = point;
    const base = { kind: route.kind, namespace: route.namespace, name: route.name, gateway: { ...gateway } };
    const common = { type: RATE_LIMIT_AFFECTED, lastTransitionTime: input.now };
    if (governors.size > 0) {
      const message = `rate limited by RateLimitPolicy ${[...governors].sort().join(', ')}`;
      out.push({ ...base, condition: { ...common, status: 'True', reason: 'Accepted', message } });
      continue;
    }
    const invalid = invalidTargeting.get(`${route.kind}/${route.namespace}/${route.name}`);
    if (invalid) {
      const message = `targeted by invalid RateLimitPolicy ${[...invalid].sort().join(', ')}; no rate limit applies`;
      out.push({ ...base, condition: { ...common, status: 'False', reason: 'Invalid', message } });
    }
  }
  return out;
}

function invalidPoliciesByRoute(index: PolicyIndex): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const id of index.invalid.keys()) {
    const policy = index.policies.get(id)!;
    for (const { ref } of usableTargetRefs(policy)) {
      if (ref.kind === 'Gateway') continue;
      const k = `${ref.kind}/${ns(policy)}/${ref.name}`;
      out.set(k, (out.get(k) ?? new Set()).add(id));
    }
  }
  return out;
}

function ns(o: Meta): string {
  return o.metadata.namespace ?? 'default';
}
