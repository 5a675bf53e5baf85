// The platform team's policy configuration: the enforcement action of each policy and the custom bundles
// to load. A YAML (or JSON) document, from a file (`--policy-config`, TENANTGATE_POLICY_CONFIG):
//
//   enforcement:
//     default: deny                  # deny | warn | dryrun, for policies not listed
//     policies: {route-count: warn, platform-labels: dryrun}
//   bundles:
//     - {name: team-rules, file: /etc/tenantgate/bundles/team-rules.tar.gz}
//     - {name: shared-rules, configMap: {namespace: tenantgate-system, name: shared-rules, key: bundle.tar.gz}}
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { defineError, errorMessage } from '../lib/errors.ts';
import { ENFORCEMENT_ACTIONS, type EnforcementAction } from './types.ts';
import { isRecord } from './bundle.ts';

export const PolicyConfigError = defineError('TG_POLICY_CONFIG', 'policy configuration %s: %s');

export interface EnforcementConfig {
  default: EnforcementAction;
  policies: Record<string, EnforcementAction>;
}

export type BundleSourceSpec =
  | { name: string; file: string }
  | { name: string; configMap: { namespace: string; name: string; key: string } };

export interface PolicyConfig {
  enforcement: EnforcementConfig;
  bundles: BundleSourceSpec[];
}

export const BUILTIN_BUNDLE = 'builtin';

export function defaultPolicyConfig(): PolicyConfig {
  return { enforcement: { default: 'deny', policies: {} }, bundles: [] };
}

export function actionFor(config: EnforcementConfig, policy: string): EnforcementAction {
  return config.policies[policy] ?? config.default;
}

export function loadPolicyConfigFile(path: string): PolicyConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PolicyConfigError([path, errorMessage(err)], { cause: err });
  }
  return parsePolicyConfig(text, path);
}

export function parsePolicyConfig(text: string, source: string): PolicyConfig {
  let doc: unknown;
  try {
    doc = parse(text) ?? {};
  } catch (err) {
    throw new PolicyConfigError([source, `not YAML: ${errorMessage(err)}`], { cause: err });
  }
  if (!isRecord(doc)) throw new PolicyConfigError([source, 'must be a mapping with enforcement and bundles']);
  return {
    enforcement: parseEnforcement(doc.enforcement ?? {}, source),
    bundles: parseBundles(doc.bundles ?? [], source),
  };
}

export function parseEnforcement(raw: unknown, source: string): EnforcementConfig {
  if (!isRecord(raw)) throw new PolicyConfigError([source, 'enforcement must be a mapping']);
  const config: EnforcementConfig = {
    default: action(raw.default ?? 'deny', `${source}: enforcement.default`),
    policies: {},
  };
  const policies = raw.policies ?? {};
  if (!isRecord(policies))
    throw new PolicyConfigError([source, 'enforcement.policies must map policy names to actions']);
  for (const [policy, value] of Object.entries(policies)) {
    config.policies[policy] = action(value, `${source}: enforcement.policies.${policy}`);
  }
  return config;
}

function action(value: unknown, where: string): EnforcementAction {
  if (typeof value === 'string' && (ENFORCEMENT_ACTIONS as readonly string[]).includes(value))
    return value as EnforcementAction;
  throw new PolicyConfigError([
    where,
    `'${String(value)}' is not an enforcement action (use ${ENFORCEMENT_ACTIONS.join(', ')})`,
  ]);
}

function parseBundles(raw: unknown, source: string): BundleSourceSpec[] {
  if (!Array.isArray(raw)) throw new PolicyConfigError([source, 'bundles must be a list']);
  const seen = new Set<string>([BUILTIN_BUNDLE]);
  return raw.map((b: unknown, i) => {
    const where = `bundles[${i}]`;
    if (!isRecord(b) || typeof b.name !== 'string' || !b.name)
      throw new PolicyConfigError([source, `${where} needs a name`]);
    if (seen.has(b.name)) throw new PolicyConfigError([source, `${where}: the name '${b.name}' is taken`]);
    seen.add(b.name);
    if (typeof b.file === 'string') return { name: b.name, file: b.file };
    const cm = b.configMap;
    if (isRecord(cm) && typeof cm.namespace === 'string' && typeof cm.name === 'string') {
      return {
        name: b.name,
        configMap: {
          namespace: cm.namespace,
          name: cm.name,
          key: typeof cm.key === 'string' ? cm.key : 'bundle.tar.gz',
        },
      };
    }
    throw new PolicyConfigError([
      source,
      `${where} ('${b.name}') needs file: PATH or configMap: {namespace, name, key}`,
    ]);
  });
}
