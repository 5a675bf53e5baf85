// Tenant.status from what a reconcile found: observedGeneration, the Ready condition (reason says why
// not), one entry per namespace, the route count. statusChanged() ignores lastTransitionTime so that a
// reconcile that finds nothing new writes nothing.
import type { Condition } from '../api/common.ts';
import type { Tenant, TenantStatus } from '../api/tenant.ts';

export const Reasons = {
  Reconciled: 'Reconciled',
  NamespaceConflict: 'NamespaceConflict',
  NamespaceTerminating: 'NamespaceTerminating',
  Progressing: 'Progressing',
  ReconcileError: 'ReconcileError',
} as const;
export type Reason = (typeof Reasons)[keyof typeof Reasons];

export interface NamespaceResult {
  name: string;
  ready: boolean;
  message?: string;
  /** proven to be the tenant's (owner reference to its UID) */
  owned?: boolean;
  conflict?: boolean;
  terminating?: boolean;
}

export interface StatusInput {
  namespaces: NamespaceResult[];
  /** what the operator keeps in each owned namespace, for status */
  children?: ReadonlyMap<string, readonly { kind: string; metadata: { name: string } }[]>;
  routes: number;
  gatewayProblems: string[];
  /** set when the reconcile could not finish */
  error?: string;
  /** something is still on its way (e.g. a namespace we could not create yet) */
  progressing?: string;
}

export function readyCondition(input: StatusInput): Pick<Condition, 'status' | 'reason' | 'message'> {
  const conflicts = input.namespaces.filter((n) => n.conflict);
  const terminating = input.namespaces.filter((n) => n.terminating);
  const notes = input.gatewayProblems.length ? ` Gateway problems: ${input.gatewayProblems.join('; ')}.` : '';
  if (input.error) return { status: 'False', reason: Reasons.ReconcileError, message: input.error };
  if (conflicts.length) {
    return {
      status: 'False',
      reason: Reasons.NamespaceConflict,
      message: conflicts.map((n) => n.message).join('; '),
    };
  }
  if (terminating.length) {
    return {
      status: 'False',
      reason: Reasons.NamespaceTerminating,
      message: `waiting for namespace ${terminating.map((n) => n.name).join(', ')} to finish terminating before recreating it`,
    };
  }
  if (input.progressing) return { status: 'False', reason: Reasons.Progressing, message: input.progressing };
  const n = input.namespaces.length;
  return {
    status: 'True',
    reason: Reasons.Reconciled,
    message: `${n} namespace${n === 1 ? '' : 's'} ready.${notes}`,
  };
}

export function desiredStatus(tenant: Tenant, input: StatusInput, now: Date): TenantStatus {
  const generation = tenant.metadata.generation ?? 0;
  const ready = readyCondition(input);
  const previous = tenant.status?.conditions?.find((c) => c.type === 'Ready');
  const ltt =
    previous && previous.status === ready.status
      ? previous.lastTransitionTime
      : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const others = (tenant.status?.conditions ?? []).filter((c) => c.type !== 'Ready');
  return {
    observedGeneration: generation,
    conditions: [
      { type: 'Ready', ...ready, observedGeneration: generation, lastTransitionTime: ltt },
      ...others,
    ],
    namespaces: input.namespaces.map((n) => ({
      ...(n.ready ? { name: n.name, ready: true } : { name: n.name, ready: false, message: n.message ?? '' }),
      ...childNames(input.children?.get(n.name)),
    })),
    namespacesReady: `${input.namespaces.filter((n) => n.ready).length}/${input.namespaces.length}`,
    routes: input.routes,
  };
}

function childNames(children: readonly { kind: string; metadata: { name: string } }[] | undefined) {
  if (!children?.length) return {};
  const named = (kind: string) =>
    children
      .filter((c) => c.kind === kind)
      .map((c) => c.metadata.name)
      .sort();
  return { roleBindings: named('RoleBinding'), referenceGrants: named('ReferenceGrant') };
}

/** True when `next` differs from `current` in anything but condition lastTransitionTime. */
export function statusChanged(current: TenantStatus | undefined, next: TenantStatus): boolean {
  return JSON.stringify(normalize(current)) !== JSON.stringify(normalize(next));
}

function normalize(s: TenantStatus | undefined) {
  if (!s) return null;
  return {
    observedGeneration: s.observedGeneration ?? null,
    conditions: [...(s.conditions ?? [])]
      .sort((a, b) => a.type.localeCompare(b.type))
      .map((c) => [c.type, c.status, c.reason, c.message, c.observedGeneration ?? null]),
    namespaces: (s.namespaces ?? []).map((n) => [
      n.name,
      n.ready,
      n.message ?? '',
      n.roleBindings ?? [],
      n.referenceGrants ?? [],
    ]),
    namespacesReady: s.namespacesReady ?? null,
    routes: s.routes ?? null,
  };
}
