// AccessPolicy objects → the route-table compiler's AttachPolicies hook. Called once per snapshot: the
// policies are checked against the rules the engine has loaded and the snapshot's Secrets, indexed by the
// shared precedence (rule > route > listener > Gateway; the older policy wins a tie), and each (policy,
// route) pair gets one RequestPolicy. Invalid policies govern too ('govern'), refusing with 500.
import type { AccessPolicy } from '../../api/accesspolicy.ts';
import { TENANT_LABEL } from '../../api/common.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Namespace, Secret } from '../model/gateway-api.ts';
import { governing, indexPolicies, type PolicyIndex } from '../policy-attachment/precedence.ts';
import { policyId } from '../policy-attachment/targets.ts';
import type { AttachPolicies, RequestPolicy } from '../request-policy.ts';
import { indexSecrets } from './api-key.ts';
import type { AccessEngine } from './engine.ts';
import { admissionParameterCheck, type ParameterCheck } from './parameters.ts';
import { AccessRequestPolicy, InvalidAccessPolicy } from './policy.ts';
import { prepareAccessPolicy, type PreparedAccessPolicy } from './validate.ts';

export type AccessPolicyIndex = PolicyIndex<AccessPolicy>;

export interface AccessCompileOptions {
  /** the process's policy engine (long-lived; its loaded bundles define the rules) */
  engine: AccessEngine;
  /** the snapshot's Secrets: api-key policies read theirs from here, in their own namespace only */
  secrets: readonly Secret[];
  /** the snapshot's Namespaces: a route's tenant is its namespace's tenantgate.io/tenant label */
  namespaces: readonly Namespace[];
  logger?: Logger;
  /** how parameters are checked against the rule's schema; default: the engine's admission policy */
  checkParameters?: ParameterCheck;
}

export interface CompiledAccessPolicies {
  /** the hook for the route-table compiler: [] or the one AccessPolicy governing the point */
  readonly attach: AttachPolicies;
  /** the precedence index, for computeAccessPolicyStatus and for logging invalid policies */
  readonly index: AccessPolicyIndex;
}

const NONE: readonly RequestPolicy[] = Object.freeze([]);

export function compileAccessPolicies(
  policies: readonly AccessPolicy[],
  options: AccessCompileOptions,
): CompiledAccessPolicies {
  const { engine } = options;
  const ctx = {
    rules: new Set(engine.accessRules().map((r) => r.name)),
    secrets: indexSecrets(options.secrets),
    checkParameters: options.checkParameters ?? admissionParameterCheck(engine),
  };
  const prepared = new Map<string, PreparedAccessPolicy>();
  const index = indexPolicies(policies, {
    invalid: 'govern',
    validate: (policy) => {
      const result = prepareAccessPolicy(policy, ctx);
      if (result.prepared) prepared.set(policyId(policy), result.prepared);
      return result.problems;
    },
  });
  const tenants = tenantsByNamespace(options.namespaces);
  const instances = new Map<string, readonly RequestPolicy[]>();
  const attach: AttachPolicies = (point) => {
    const governor = governing(index, point);
    if (!governor) return NONE;
    const route = point.route;
    const key = `${governor.id}\u0000${route.kind}/${route.namespace}/${route.name}`;
    let list = instances.get(key);
    if (!list) {
      const p = prepared.get(governor.id);
      const policy = p
        ? new AccessRequestPolicy({
            name: governor.id,
            rule: p.rule,
            parameters: p.parameters,
            apiKey: p.apiKey,
            route,
            tenant: tenants.get(route.namespace),
            engine,
            logger: options.logger,
          })
        : new InvalidAccessPolicy(governor.id);
      list = Object.freeze([policy]);
      instances.set(key, list);
    }
    return list;
  };
  return { attach, index };
}

function tenantsByNamespace(namespaces: readonly Namespace[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const ns of namespaces) {
    const tenant = ns.metadata.labels?.[TENANT_LABEL];
    if (tenant) out.set(ns.metadata.name, tenant);
  }
  return out;
}
