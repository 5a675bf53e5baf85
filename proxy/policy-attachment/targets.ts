// Gateway API policy attachment, the parts every policy kind shares: what a policy object looks like to
// the attachment logic, how its targetRefs are checked and located, and the keys targets are indexed by.
import type { TargetRef } from '../../api/common.ts';

/** The shape the attachment logic reads from a RateLimitPolicy, an AccessPolicy or any later kind. */
export interface AttachablePolicy {
  metadata: { namespace?: string; name: string; creationTimestamp?: string; generation?: number };
  spec: { targetRefs: readonly TargetRef[] };
}

export const TARGET_GROUP = 'gateway.networking.k8s.io';
export const TARGET_KINDS: readonly string[] = ['Gateway', 'HTTPRoute', 'GRPCRoute'];

/** namespace/name of a policy (policies are namespaced; 'default' when a file leaves it out) */
export function policyId(p: { metadata: { namespace?: string; name: string } }): string {
  return `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
}

export function policyNamespace(p: { metadata: { namespace?: string } }): string {
  return p.metadata.namespace ?? 'default';
}

/** The target as a key: "HTTPRoute/ns/name", "HTTPRoute/ns/name#rule", "Gateway/ns/name#listener". */
export function targetKey(namespace: string, ref: Pick<TargetRef, 'kind' | 'name' | 'sectionName'>): string {
  const base = `${ref.kind}/${namespace}/${ref.name}`;
  return ref.sectionName ? `${base}#${ref.sectionName}` : base;
}

/**
 * Checks spec.targetRefs (the CRD schema does the same in a cluster, but --from-files input never went
 * through an API server). Appends "field: rule (got value)" problems.
 */
export function checkTargetRefs(refs: unknown, problems: string[]): void {
  if (!Array.isArray(refs) || refs.length === 0 || refs.length > 16) {
    problems.push('spec.targetRefs: must list 1 to 16 targets');
    return;
  }
  const seen = new Set<string>();
  refs.forEach((ref: unknown, i) => {
    const at = `spec.targetRefs[${i}]`;
    if (!isObject(ref)) return void problems.push(`${at}: must be an object`);
    if (ref.group !== TARGET_GROUP)
      problems.push(`${at}.group: must be ${TARGET_GROUP} (got ${show(ref.group)})`);
    if (!TARGET_KINDS.includes(ref.kind as string)) {
      problems.push(`${at}.kind: must be one of ${TARGET_KINDS.join(', ')} (got ${show(ref.kind)})`);
    }
    if (!nonEmptyString(ref.name)) problems.push(`${at}.name: must be a non-empty string`);
    if (ref.sectionName !== undefined && !nonEmptyString(ref.sectionName)) {
      problems.push(`${at}.sectionName: must be a non-empty string when set`);
    }
    const id = `${String(ref.kind)}/${String(ref.name)}/${String(ref.sectionName ?? '')}`;
    if (seen.has(id)) problems.push(`${at}: duplicates an earlier target (targetRefs must be unique)`);
    seen.add(id);
  });
}

/** targetRefs well-formed enough to locate, even in an invalid policy (so its status can say why). */
export function usableTargetRefs(policy: unknown): { ref: TargetRef; targetIndex: number }[] {
  const refs: unknown = (policy as { spec?: { targetRefs?: unknown } } | undefined)?.spec?.targetRefs;
  if (!Array.isArray(refs)) return [];
  const out: { ref: TargetRef; targetIndex: number }[] = [];
  refs.forEach((r: Partial<TargetRef> | null, targetIndex) => {
    const ok = r && typeof r.name === 'string' && TARGET_KINDS.includes(r.kind as string);
    if (ok) out.push({ ref: r as TargetRef, targetIndex });
  });
  return out;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

/** A value as a problem message quotes it. */
export function show(v: unknown): string {
  return v === undefined ? 'nothing' : JSON.stringify(v);
}
