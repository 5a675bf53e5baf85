// The Gateway API status that one policy kind's configuration implies, as a pure function of the
// precedence index and of the points the route table serves (the same points its compiler passed to the
// attach hook), so the status a policy shows is what the data path does. Each kind supplies its wording.
//
// Per policy, one `ancestors` entry per Gateway it reaches (through a route or directly):
//   Accepted  True/Accepted, or False with Invalid (spec rejected), TargetNotFound (no such route, rule,
//             Gateway or listener) or Conflicted (an older policy has the same target).
//   Enforced  True/Enforced when it is in force on at least one route rule under that Gateway (or no route
//             is attached yet) — as the governing default or as a Gateway/listener override; the message
//             names the overrides in force there besides it. False/Overridden (naming them) when more
//             specific defaults govern every one of them; False with the Accepted reason when not accepted.
// A target that does not exist has no Gateway to report under, so the entry names the target itself.
// Per route and parent Gateway: the kind's "Affected" condition, True when a valid policy is in force on
// some rule of it there (naming every one), False/Invalid when only invalid policies target (or, for kinds
// that fail closed, govern) it.
import { GATEWAY_CONTROLLER_NAME, type Condition, type TargetRef } from '../../api/common.ts';
import type { PolicyAttachmentPoint } from '../request-policy.ts';
import { governing, overridesAt, type PolicyIndex } from './precedence.ts';
import {
  policyNamespace,
  targetKey,
  TARGET_GROUP,
  usableTargetRefs,
  type AttachablePolicy,
} from './targets.ts';

type RouteKind = 'HTTPRoute' | 'GRPCRoute';
interface Meta {
  metadata: { namespace?: string; name: string };
}

/** How one policy kind words its status. */
export interface PolicyKindText {
  /** e.g. 'RateLimitPolicy' */
  kind: string;
  /** the route condition type, e.g. 'tenantgate.io/RateLimitPolicyAffected' */
  affectedCondition: string;
  /** route condition message when valid policies govern it: ids sorted */
  affected(ids: readonly string[]): string;
  /** route condition message when only invalid policies target or govern it */
  invalidOnly(ids: readonly string[]): string;
  /** appended to an invalid policy's condition messages: what its targets get meanwhile */
  invalidEffect?: string;
}

export interface StatusWorld {
  /** the Gateways this controller serves */
  gateways: readonly (Meta & { spec: { listeners: readonly { name: string }[] } })[];
  httpRoutes: readonly (Meta & { spec: { rules?: readonly { name?: string }[] } })[];
  grpcRoutes: readonly (Meta & { spec: { rules?: readonly { name?: string }[] } })[];
  /** every point the route table serves */
  points: readonly PolicyAttachmentPoint[];
  /** lastTransitionTime for the conditions (the writer keeps the old one when a condition is unchanged) */
  now: string;
  controllerName?: string;
}

export interface PolicyStatusInputs<P extends AttachablePolicy> extends StatusWorld {
  index: PolicyIndex<P>;
  text: PolicyKindText;
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

export interface PolicyStatusResult {
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
  /** overrides of other policies in force where this one is */
  alongside: Set<string>;
  /** in force (somewhere) through its spec.overrides */
  asOverride: boolean;
}

const MAX_ANCESTORS = 16;

export function computePolicyStatus<P extends AttachablePolicy>(
  input: PolicyStatusInputs<P>,
): PolicyStatusResult {
  const { index } = input;
  const world = describeWorld(input);
  const policies: PolicyStatusResult['policies'] = [];
  for (const [id, policy] of index.policies) {
    const outcomes = policyOutcomes(id, policy, index, world, input);
    const ancestors = aggregate(outcomes, {
      generation: policy.metadata.generation,
      now: input.now,
      controllerName: input.controllerName ?? GATEWAY_CONTROLLER_NAME,
    });
    policies.push({ namespace: policyNamespace(policy), name: policy.metadata.name, status: { ancestors } });
  }
  return { policies, routes: routeConditions(input) };
}

interface World {
  gateways: Map<string, Set<string>>; // "ns/name" → listener names
  routes: Map<string, Set<string>>; // "Kind/ns/name" → rule names
}

function describeWorld(input: StatusWorld): World {
  const gateways = new Map<string, Set<string>>();
  for (const g of input.gateways)
    gateways.set(`${ns(g)}/${g.metadata.name}`, new Set(g.spec.listeners.map((l) => l.name)));
  const routes = new Map<string, Set<string>>();
  const addRoutes = (kind: RouteKind, list: StatusWorld['httpRoutes']) => {
    for (const r of list) {
      const names = (r.spec.rules ?? []).map((x) => x.name).filter((n): n is string => !!n);
      routes.set(`${kind}/${ns(r)}/${r.metadata.name}`, new Set(names));
    }
  };
  addRoutes('HTTPRoute', input.httpRoutes);
  addRoutes('GRPCRoute', input.grpcRoutes);
  return { gateways, routes };
}

function policyOutcomes<P extends AttachablePolicy>(
  id: string,
  policy: P,
  index: PolicyIndex<P>,
  world: World,
  input: PolicyStatusInputs<P>,
): TargetOutcome[] {
  const problems = index.invalid.get(id);
  const { points } = input;
  const pns = policyNamespace(policy);
  const outcomes: TargetOutcome[] = [];
  for (const { ref, targetIndex } of usableTargetRefs(policy)) {
    const at = `spec.targetRefs[${targetIndex}]`;
    const relevant = points.filter((p) => reaches(ref, pns, p));
    const found = targetFound(ref, pns, world);
    // A rule or listener name that does not exist is still reported under the Gateways the route uses.
    const around = ref.sectionName
      ? points.filter((p) => reaches({ ...ref, sectionName: undefined }, pns, p))
      : relevant;
    for (const ancestor of ancestorsOf(ref, pns, around, found.exists)) {
      const base = {
        ancestor,
        governed: 0,
        reachable: 0,
        overriddenBy: new Set<string>(),
        alongside: new Set<string>(),
        asOverride: false,
      };
      if (problems) {
        const effect = input.text.invalidEffect ? ` — ${input.text.invalidEffect}` : '';
        outcomes.push({ ...base, reason: 'Invalid', message: problems.join('; ') + effect });
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
        const key = targetKey(pns, ref);
        for (const p of here) {
          const g = governing(index, p);
          const overrides = overridesAt(index, p);
          const mine = overrides.filter((o) => o.id === id && o.target === key);
          const governs = g?.id === id && g.target === key;
          if (governs || mine.length > 0) {
            outcome.governed++;
            if (mine.length > 0 || g?.section === 'overrides') outcome.asOverride = true;
            for (const o of overrides) if (o.id !== id) outcome.alongside.add(o.id);
          } else if (g) outcome.overriddenBy.add(g.id);
        }
        outcomes.push(outcome);
      }
    }
  }
  return outcomes;
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
  if (ref.kind === 'Gateway') return [{ group: TARGET_GROUP, kind: 'Gateway', namespace, name: ref.name }];
  const seen = new Map<string, AncestorRef>();
  for (const p of points) {
    const a = { group: TARGET_GROUP, kind: 'Gateway', namespace: p.gateway.namespace, name: p.gateway.name };
    seen.set(`${a.namespace}/${a.name}`, a);
  }
  if (seen.size > 0) return [...seen.values()];
  // A route attached nowhere has no ancestor yet; a missing one is reported under its own name.
  return exists ? [] : [{ group: TARGET_GROUP, kind: ref.kind, namespace, name: ref.name }];
}

function isUnder(p: PolicyAttachmentPoint, a: AncestorRef): boolean {
  return p.gateway.namespace === a.namespace && p.gateway.name === a.name;
}

const FAILURE_ORDER: Reason[] = ['Invalid', 'TargetNotFound', 'Conflicted'];

type Cond = (type: string, ok: boolean, reason: string, message: string) => Condition;

function aggregate(
  outcomes: TargetOutcome[],
  at: { generation: number | undefined; now: string; controllerName: string },
): PolicyAncestorStatus[] {
  const byAncestor = new Map<string, TargetOutcome[]>();
  for (const o of outcomes) {
    const k = `${o.ancestor.kind}/${o.ancestor.namespace}/${o.ancestor.name}`;
    byAncestor.set(k, [...(byAncestor.get(k) ?? []), o]);
  }
  const cond: Cond = (type, ok, reason, message) => ({
    type,
    status: ok ? 'True' : 'False',
    reason,
    message,
    lastTransitionTime: at.now,
    ...(at.generation !== undefined ? { observedGeneration: at.generation } : {}),
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
    result.push({ ancestorRef: list[0]!.ancestor, controllerName: at.controllerName, conditions });
  }
  return result.slice(0, MAX_ANCESTORS);
}

function enforced(accepted: TargetOutcome[], cond: Cond): Condition {
  const governed = accepted.reduce((n, o) => n + o.governed, 0);
  const reachable = accepted.reduce((n, o) => n + o.reachable, 0);
  const by = [...new Set(accepted.flatMap((o) => [...o.overriddenBy]))].sort();
  const names = few(by);
  const alongside = [...new Set(accepted.flatMap((o) => [...o.alongside]))].sort();
  const also =
    alongside.length > 0
      ? `; overrides in force there too (every request must pass them as well): ${few(alongside)}`
      : '';
  const as = accepted.some((o) => o.asOverride) ? ' as an override' : '';
  if (reachable === 0)
    return cond(
      'Enforced',
      true,
      'Enforced',
      `no route is attached yet; enforced${as} on routes as they attach`,
    );
  if (governed === 0)
    return cond(
      'Enforced',
      false,
      'Overridden',
      `more specific policies govern every route rule here: ${names}`,
    );
  const partial = governed < reachable ? `; overridden on ${reachable - governed} by ${names}` : '';
  return cond('Enforced', true, 'Enforced', `enforced${as} on ${governed} route rule(s)${partial}${also}`);
}

function few(ids: readonly string[]): string {
  return ids.slice(0, 5).join(', ') + (ids.length > 5 ? `, and ${ids.length - 5} more` : '');
}

function routeConditions<P extends AttachablePolicy>(
  input: PolicyStatusInputs<P>,
): PolicyStatusResult['routes'] {
  const { index, text } = input;
  const groups = new Map<
    string,
    { point: PolicyAttachmentPoint; valid: Set<string>; invalid: Set<string> }
  >();
  for (const p of input.points) {
    const k = `${p.route.kind}/${p.route.namespace}/${p.route.name}\u0000${p.gateway.namespace}/${p.gateway.name}`;
    const g = groups.get(k) ?? { point: p, valid: new Set<string>(), invalid: new Set<string>() };
    const governor = governing(index, p);
    for (const a of [...overridesAt(index, p), ...(governor ? [governor] : [])])
      (index.invalid.has(a.id) ? g.invalid : g.valid).add(a.id);
    groups.set(k, g);
  }
  const invalidTargeting = invalidPoliciesByRoute(index);
  const out: PolicyStatusResult['routes'] = [];
  for (const { point, valid, invalid } of groups.values()) {
    const { route, gateway } = point;
    const base = { kind: route.kind, namespace: route.namespace, name: route.name, gateway: { ...gateway } };
    const common = { type: text.affectedCondition, lastTransitionTime: input.now };
    if (valid.size > 0) {
      const also = invalid.size > 0 ? `; ${text.invalidOnly(sorted(invalid))}` : '';
      const message = text.affected(sorted(valid)) + also;
      out.push({ ...base, condition: { ...common, status: 'True', reason: 'Accepted', message } });
      continue;
    }
    // 'ignore' kinds: invalid policies govern nothing, yet the route should say it is targeted by one
    const targeting =
      invalid.size > 0
        ? invalid
        : index.invalidMode === 'ignore'
          ? invalidTargeting.get(`${route.kind}/${route.namespace}/${route.name}`)
          : undefined;
    if (targeting) {
      const message = text.invalidOnly(sorted(targeting));
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
      const k = `${ref.kind}/${policyNamespace(policy)}/${ref.name}`;
      out.set(k, (out.get(k) ?? new Set()).add(id));
    }
  }
  return out;
}

function sorted(ids: Iterable<string>): string[] {
  return [...ids].sort();
}

function ns(o: Meta): string {
  return o.metadata.namespace ?? 'default';
}
