// The seam between the proxy's request pipeline and the policies attached to routes (rate limits,
// Rego access rules). The router knows nothing of any particular policy: the route-table compiler asks an
// `AttachPolicies` hook which policies apply to each route rule, and the pipeline evaluates them in order,
// after matching and before filters and the upstream call. The first refusal answers the request.

export interface RequestContext {
  method: string;
  /** path without the query string, normalised as routed (proxy/runtime/request-target.ts) */
  path: string;
  /** the raw query string, as written */
  query: string;
  /** the authority the request was routed by (Host, :authority or an absolute-form target's) */
  host: string;
  /** header names lower-cased; repeated headers joined with ', '; `host` is the routed authority */
  headers: Readonly<Record<string, string>>;
  sourceIp: string;
  gateway: { namespace: string; name: string; listener: string };
  route: {
    kind: 'HTTPRoute' | 'GRPCRoute';
    namespace: string;
    name: string;
    ruleIndex: number;
    ruleName?: string;
  };
}

export type PolicyVerdict =
  | {
      allow: true;
      /** response headers to add (e.g. X-RateLimit-Remaining) */ headers?: Record<string, string>;
    }
  | { allow: false; status: number; reason: string; headers?: Record<string, string> };

export interface RequestPolicy {
  /** namespace/name of the policy object, for logs and metrics */
  readonly name: string;
  readonly kind: 'RateLimitPolicy' | 'AccessPolicy';
  evaluate(ctx: RequestContext): PolicyVerdict | Promise<PolicyVerdict>;
}

/** What the route-table compiler tells the hook about one route rule attached to one listener. */
export interface PolicyAttachmentPoint {
  gateway: { namespace: string; name: string };
  listener: string;
  route: { kind: 'HTTPRoute' | 'GRPCRoute'; namespace: string; name: string };
  ruleIndex: number;
  ruleName?: string;
}

export type AttachPolicies = (point: PolicyAttachmentPoint) => readonly RequestPolicy[];
