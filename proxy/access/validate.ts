// Turns an AccessPolicy into what its RequestPolicy needs (rule, parameters, api keys), or into the
// problems that make it invalid, each naming the field and the rule. An invalid AccessPolicy is not
// dropped: it governs its targets and refuses every request there (fail closed), and its status says why.
import type { AccessPolicy } from '../../api/accesspolicy.ts';
import { policySections, type PolicySection } from '../policy-attachment/sections.ts';
import { checkTargetRefs, isObject, policyNamespace, show } from '../policy-attachment/targets.ts';
import { API_KEY_RULE, resolveApiKeys, type ApiKeyConfig, type SecretIndex } from './api-key.ts';
import type { ParameterCheck } from './parameters.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface PreparedAccessPolicy {
  rule: string;
  /** spec.parameters ({} when absent) */
  parameters: Record<string, unknown>;
  apiKey?: ApiKeyConfig;
}

export interface AccessValidationContext {
  /** the data-path rules the loaded bundles provide */
  rules: ReadonlySet<string>;
  secrets: SecretIndex;
  checkParameters: ParameterCheck;
}

/** The defaults and overrides of an AccessPolicy spec (policySections with its settings: rule, parameters). */
export function accessSections(spec: unknown): { sections: PolicySection[]; problems: string[] } {
  return policySections(spec, ACCESS_FIELDS);
}

export const ACCESS_FIELDS: readonly string[] = ['rule', 'parameters'];

/**
 * Every section of the policy prepared (keyed by its field path: 'spec', 'spec.defaults',
 * 'spec.overrides'), or the problems of all of them: one bad section makes the whole policy invalid.
 */
export function prepareAccessPolicy(
  policy: AccessPolicy,
  ctx: AccessValidationContext,
): { prepared?: ReadonlyMap<string, PreparedAccessPolicy>; problems: string[] } {
  const spec: unknown = policy.spec;
  if (!isObject(spec)) return { problems: ['spec: must be an object with targetRefs and rule'] };
  const problems: string[] = [];
  checkTargetRefs(spec.targetRefs, problems);
  const { sections, problems: form } = accessSections(spec);
  problems.push(...form);
  const prepared = new Map<string, PreparedAccessPolicy>();
  for (const { body, at } of sections) {
    const one = prepareSection(body, at, policyNamespace(policy), ctx);
    if (one.prepared) prepared.set(at, one.prepared);
    problems.push(...one.problems);
  }
  return problems.length > 0 ? { problems } : { prepared, problems };
}

function prepareSection(
  section: Record<string, unknown>,
  at: string,
  namespace: string,
  ctx: AccessValidationContext,
): { prepared?: PreparedAccessPolicy; problems: string[] } {
  const problems: string[] = [];
  const rule = section.rule;
  if (typeof rule !== 'string' || rule.length > 63 || !DNS_LABEL.test(rule)) {
    problems.push(`${at}.rule: must name a data-path rule, e.g. allow-cidrs (got ${show(rule)})`);
  } else if (!ctx.rules.has(rule)) {
    const known = [...ctx.rules].sort().join(', ') || 'none';
    problems.push(
      `${at}.rule: '${rule}' is not a data-path rule of any loaded policy bundle (loaded: ${known})`,
    );
  }
  const parameters = section.parameters ?? {};
  if (!isObject(parameters)) {
    problems.push(`${at}.parameters: must be an object (got ${show(parameters)})`);
  }
  if (problems.length > 0) return { problems };
  // the parameter checks speak of spec.parameters; say where this section's parameters are
  const here = (list: readonly string[]) =>
    list.map((p) => (at === 'spec' ? p : p.replaceAll('spec.parameters', `${at}.parameters`)));
  const name = rule as string;
  const params = parameters as Record<string, unknown>;
  if (name !== API_KEY_RULE) {
    problems.push(...here(ctx.checkParameters(name, params)));
    return problems.length > 0 ? { problems } : { prepared: { rule: name, parameters: params }, problems };
  }
  const { config, problems: keyProblems } = resolveApiKeys(params, namespace, ctx.secrets);
  if (!config) return { problems: here(keyProblems) };
  // The rule's schema knows digests, not Secrets: check what the rule will be given.
  const effective = {
    ...(params.header !== undefined ? { header: params.header } : {}),
    sha256: config.digests.map((d) => d.toString('hex')),
  };
  problems.push(...here(ctx.checkParameters(name, effective)));
  return problems.length > 0
    ? { problems }
    : { prepared: { rule: name, parameters: params, apiKey: config }, problems };
}
