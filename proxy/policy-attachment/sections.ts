// GEP-713 defaults and overrides: where in a policy's spec its defaults and its overrides live. A policy
// holds its kind's settings (a RateLimitPolicy's `limits`, an AccessPolicy's `rule` + `parameters`) at the
// top level of spec (the original form, meaning defaults), under `spec.defaults`, under `spec.overrides`,
// or under both of the last two. Every kind reads its settings through this one function, so the data path,
// status and `tenantgate explain` agree on what a policy says.
import { isObject } from './targets.ts';

export type Section = 'defaults' | 'overrides';

export interface PolicySection {
  readonly section: Section;
  /** the object holding the kind's settings: spec itself, spec.defaults or spec.overrides */
  readonly body: Record<string, unknown>;
  /** the field path of body, for problem messages: 'spec', 'spec.defaults' or 'spec.overrides' */
  readonly at: string;
}

export interface SectionsResult {
  sections: PolicySection[];
  /** "field: rule — fix" problems with the form (both spellings of defaults, a section that is no object) */
  problems: string[];
}

/**
 * The sections of a spec. `topLevel` lists the kind's settings fields (e.g. ['limits']): any of them at the
 * top level makes spec itself the defaults section. A spec that says nothing yet is read as top-level
 * defaults, so its problems are reported against the fields it lacks (spec.limits, spec.rule).
 */
export function policySections(spec: unknown, topLevel: readonly string[]): SectionsResult {
  const problems: string[] = [];
  const sections: PolicySection[] = [];
  if (!isObject(spec)) return { sections, problems: ['spec: must be an object'] };
  const hasTop = topLevel.some((f) => spec[f] !== undefined);
  const fields = topLevel.map((f) => `spec.${f}`).join('/');
  if (hasTop && spec.defaults !== undefined) {
    problems.push(
      `spec.defaults: ${fields} and spec.defaults are two spellings of the same defaults — set one: move ${fields} under spec.defaults, or remove spec.defaults`,
    );
  }
  for (const section of ['defaults', 'overrides'] as const) {
    const body = spec[section];
    // both spellings of defaults: a problem above; the top-level form is the one read
    if (body === undefined || (section === 'defaults' && hasTop)) continue;
    if (!isObject(body)) problems.push(`spec.${section}: must be an object holding ${topLevel.join(', ')}`);
    else sections.push({ section, body, at: `spec.${section}` });
  }
  if (hasTop || sections.length === 0) sections.unshift({ section: 'defaults', body: spec, at: 'spec' });
  return { sections, problems };
}

/** The sections of a policy object (whatever its kind), problems left out: for attachment and status. */
export function sectionsOf(policy: unknown, topLevel: readonly string[]): PolicySection[] {
  const spec: unknown = isObject(policy) ? policy.spec : undefined;
  return policySections(spec, topLevel).sections;
}
