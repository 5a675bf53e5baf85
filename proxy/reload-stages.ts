// The reload, as a chain of named stages. Each stage takes the previous one's output and nothing else:
//
//   snapshot  the ProxyInputs the source emitted (policy engine loaded if the snapshot needs it)
//   analysis  analyze(): Gateways, listeners, route attachments, backend resolution
//   ir        the route table as plain data, the Gateway API status, the policy status (policy attachment
//             is resolved as data from the analysis, so status never depends on the compile)
//   materialise  runtime objects from the IR, in the process that serves (serving.ts)
//   swap      the servers switch to the new table (serving.ts)
//
// The first three run once, in the process that owns the input source (the primary with workers); the
// last two run in every serving process, from the IR alone.
import { analyze, type Analysis, type AnalysisOptions } from './analysis/analyze.ts';
import type { AttachedPolicies, AttachedPolicyInputs, AttachedPolicyStatus } from './attached-policies.ts';
import type { ProxyInputs } from './model/inputs.ts';
import type { AttachPolicies } from './request-policy.ts';
import { computeStatus, type GatewayApiStatus } from './status/compute-status.ts';
import { withPolicyRouteConditions } from './status/policy-status.ts';
import { attachmentPoints } from './table/attachment-points.ts';
import { compileAnalysis } from './table/compile.ts';
import type { RouteTableIR } from './table/ir.ts';

export interface StageOptions extends AnalysisOptions {
  gateways?: ReadonlySet<string>;
}

/** Stage 2. */
export function analysisStage(inputs: ProxyInputs, options: StageOptions): Analysis {
  return analyze(inputs, options);
}

export interface IrStageResult {
  ir: RouteTableIR;
  warnings: string[];
  status: GatewayApiStatus;
  policyStatus?: AttachedPolicyStatus;
  /** attached routes, for the route-count gauges */
  routes: { http: number; grpc: number };
}

/** Stage 3: the IR, the route status and the policy status, all from the analysis. */
export function irStage(
  inputs: ProxyInputs,
  analysis: Analysis,
  options: StageOptions & {
    generation: number;
    now: string;
    /** the snapshot's compiled policies (built-in runtime) */
    policies?: AttachedPolicies;
    /** a fixed hook instead (tests, embedding) */
    attachPolicies?: AttachPolicies;
  },
): IrStageResult {
  const { ir, warnings } = compileAnalysis(analysis, {
    ...options,
    attachPolicies: options.policies?.attach ?? options.attachPolicies,
  });
  let status = computeStatus(analysis, { controllerName: options.controllerName, now: options.now });
  let policyStatus: AttachedPolicyStatus | undefined;
  if (options.policies && hasPolicies(inputs)) {
    policyStatus = options.policies.status({
      controllerName: options.controllerName,
      gateways: analysis.gateways.map((g) => g.gateway),
      httpRoutes: inputs.httpRoutes,
      grpcRoutes: inputs.grpcRoutes,
      now: options.now,
      points: attachmentPoints(analysis, options.gateways),
    });
    status = withPolicyRouteConditions(status, policyStatus, options.controllerName);
  }
  const attached = analysis.routes.filter((r) => r.parents.some((p) => p.accepted.status === 'True'));
  return {
    ir,
    warnings,
    status,
    policyStatus,
    routes: {
      http: attached.filter((r) => r.kind === 'HTTPRoute').length,
      grpc: attached.filter((r) => r.kind === 'GRPCRoute').length,
    },
  };
}

export const hasPolicies = (inputs: AttachedPolicyInputs): boolean =>
  inputs.rateLimitPolicies.length > 0 || inputs.accessPolicies.length > 0;

/**
 * The part of a snapshot a serving process needs besides the IR: the policy objects (and the Secrets
 * api-key policies read, and the Namespaces that name tenants), to build its own policy instances.
 */
export function policyInputsOf(inputs: ProxyInputs): AttachedPolicyInputs {
  const keyNamespaces = new Set(inputs.accessPolicies.map((p) => p.metadata.namespace ?? 'default'));
  return {
    rateLimitPolicies: inputs.rateLimitPolicies,
    accessPolicies: inputs.accessPolicies,
    // api-key policies read keys from their own namespace only: ship no other Secret
    secrets: inputs.accessPolicies.length
      ? inputs.secrets.filter((s) => keyNamespaces.has(s.metadata.namespace ?? 'default'))
      : [],
    namespaces: hasPolicies(inputs) ? inputs.namespaces : [],
  };
}
