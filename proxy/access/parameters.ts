// Checks an AccessPolicy's parameters against its rule's schema with the very policy the admission webhook
// runs (`access-policy-rule` of the built-in bundle), so --from-files input, which never went through
// admission, gets the same verdict and a cluster object that slipped past (webhook down, bundle changed)
// is caught. The engine has no call for this one check, so it is asked to review a synthetic CREATE of an
// AccessPolicy and only that policy's decisions are read. Results are memoised per engine and bundle set:
// a review costs about half a millisecond and the proxy recompiles on every snapshot.
import type { AdmissionRequest } from '../../policies/types.ts';
import type { AccessEngine } from './engine.ts';

export const PARAMETER_POLICY = 'access-policy-rule';
const MAX_MEMO = 10_000;

export type ParameterCheck = (rule: string, parameters: Record<string, unknown>) => readonly string[];

const memos = new WeakMap<AccessEngine, { revision: string; results: Map<string, readonly string[]> }>();

export function admissionParameterCheck(engine: AccessEngine): ParameterCheck {
  const revision = engine
    .bundles()
    .map((b) => `${b.name}@${b.revision}`)
    .join(',');
  let memo = memos.get(engine);
  if (!memo || memo.revision !== revision) {
    memo = { revision, results: new Map() };
    memos.set(engine, memo);
  }
  const results = memo.results;
  return (rule, parameters) => {
    const key = `${rule}\u0000${JSON.stringify(parameters)}`;
    let problems = results.get(key);
    if (!problems) {
      problems = review(engine, rule, parameters);
      if (results.size >= MAX_MEMO) results.clear();
      results.set(key, problems);
    }
    return problems;
  };
}

function review(engine: AccessEngine, rule: string, parameters: Record<string, unknown>): string[] {
  const { decisions } = engine.evaluateAdmission(syntheticCreate(rule, parameters));
  return decisions.filter((d) => d.policy === PARAMETER_POLICY).map((d) => d.message);
}

function syntheticCreate(rule: string, parameters: Record<string, unknown>): AdmissionRequest {
  const gvk = { group: 'tenantgate.io', version: 'v1alpha1' };
  return {
    uid: 'tenantgate-proxy-parameter-check',
    kind: { ...gvk, kind: 'AccessPolicy' },
    resource: { ...gvk, resource: 'accesspolicies' },
    namespace: 'parameter-check',
    name: 'parameter-check',
    operation: 'CREATE',
    userInfo: { username: 'system:tenantgate:proxy' },
    object: {
      apiVersion: 'tenantgate.io/v1alpha1',
      kind: 'AccessPolicy',
      metadata: { namespace: 'parameter-check', name: 'parameter-check' },
      spec: { targetRefs: [], rule, parameters },
    },
  };
}
