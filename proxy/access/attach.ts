// AccessPolicy objects → the route-table compiler's AttachPolicies hook. Called once per snapshot: the
// policies are checked against the rules the engine has loaded and the snapshot's Secrets, indexed by the
// shared precedence (rule > route > listener > Gateway; the older policy wins a tie), and each (policy,
// route) pair gets one RequestPolicy. Invalid policies govern too ('govern'), refusing with 500. The pairs
// of one policy section share one decision cache (decision-cache.ts), new with every compile.
// At a point, every Gateway/listener override runs first (Gateway-wide, then the listener's), then the
// governing default: all must allow, and the first refusal answers, so a tenant's route policy can add a
// rule but never take a platform override away.
import type { AccessPolicy } from '../../api/accesspolicy.ts';
import { TENANT_LABEL } from '../../api/common.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Namespace, Secret } from '../model/gateway-api.ts';
import {
  inForce,
  indexPolicies,
  type Attachment,
  type PolicyIndex,
} from '../policy-attachment/precedence.ts';
import { sectionsOf } from '../policy-attachment/sections.ts';
import { policyId } from '../policy-attachment/targets.ts';
import type { AttachPolicies, PolicyAttachmentPoint, RequestPolicy } from '../request-policy.ts';
import { indexSecrets } from './api-key.ts';
import { DecisionCache } from './decision-cache.ts';
import type { AccessEngine } from './engine.ts';
import { admissionParameterCheck, type ParameterCheck } from './parameters.ts';
import { AccessRequestPolicy, InvalidAccessPolicy } from './policy.ts';
import { ACCESS_FIELDS, prepareAccessPolicy, type PreparedAccessPolicy } from './validate.ts';

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
  /** most decisions each policy section keeps (decision-cache.ts); 0 turns caching off */
  maxCachedDecisions?: number;
}

export interface CompiledAccessPolicies {
  /** the hook for the route-table compiler: the overrides in force, then the governing default */
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
  const prepared = new Map<string, ReadonlyMap<string, PreparedAccessPolicy>>();
  const index = indexPolicies(policies, {
    invalid: 'govern',
    validate: (policy) => {
      const result = prepareAccessPolicy(policy, ctx);
      if (result.prepared) prepared.set(policyId(policy), result.prepared);
      return result.problems;
    },
    sections: (policy) => sectionsOf(policy, ACCESS_FIELDS),
  });
  const tenants = tenantsByNamespace(options.namespaces);
  const instances = new Map<string, RequestPolicy>();
  const caches = new Map<string, DecisionCache>();
  const cacheOf = (a: Attachment<AccessPolicy>, p: PreparedAccessPolicy): DecisionCache | undefined => {
    if (options.maxCachedDecisions === 0) return undefined;
    const key = `${a.id}\u0000${a.at}`;
    let cache = caches.get(key);
    if (!cache) {
      cache = new DecisionCache({
        engine,
        rule: p.rule,
        parameters: p.parameters,
        policy: a.id,
        max: options.maxCachedDecisions,
      });
      caches.set(key, cache);
    }
    return cache;
  };
  const lists = new Map<string, readonly RequestPolicy[]>();
  const instance = (a: Attachment<AccessPolicy>, route: PolicyAttachmentPoint['route']) => {
    const key = `${a.id}\u0000${a.at}\u0000${route.kind}/${route.namespace}/${route.name}`;
    let policy = instances.get(key);
    if (!policy) {
      const p = prepared.get(a.id)?.get(a.at);
      policy = p
        ? new AccessRequestPolicy({
            name: a.id,
            rule: p.rule,
            parameters: p.parameters,
            apiKey: p.apiKey,
            route,
            tenant: tenants.get(route.namespace),
            engine,
            cache: cacheOf(a, p),
            logger: options.logger,
          })
        : new InvalidAccessPolicy(a.id);
      instances.set(key, policy);
    }
    return { key, policy };
  };
  const attach: AttachPolicies = (point) => {
    const all = accessPoliciesInForce(index, point);
    if (all.length === 0) return NONE;
    const made = all.map((a) => instance(a, point.route));
    // rules of one route with the same policies in force share one list
    const listKey = made.map((m) => m.key).join('\u0001');
    let list = lists.get(listKey);
    if (!list) lists.set(listKey, (list = Object.freeze(made.map((m) => m.policy))));
    return list;
  };
  return { attach, index };
}

/** The AccessPolicies in force at a point, in the order the data path asks them: overrides, then the default. */
export function accessPoliciesInForce(
  index: AccessPolicyIndex,
  point: PolicyAttachmentPoint,
): readonly Attachment<AccessPolicy>[] {
  const { overrides, governing } = inForce(index, point);
  return governing ? [...overrides, governing] : overrides;
}

function tenantsByNamespace(namespaces: readonly Namespace[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const ns of namespaces) {
    const tenant = ns.metadata.labels?.[TENANT_LABEL];
    if (tenant) out.set(ns.metadata.name, tenant);
  }
  return out;
}
