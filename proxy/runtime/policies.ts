// Evaluates the policies attached to a matched rule (the AttachPolicies seam), in order: the first
// refusal answers the request; the headers of allowing verdicts are added to the response.
import type { PolicyVerdict, RequestContext, RequestPolicy } from '../request-policy.ts';
import type { RoutedRequest, ClientRequest } from './route-request.ts';

export type PolicyOutcome =
  | { allow: true; headers?: Record<string, string> }
  | { allow: false; status: number; reason: string; headers?: Record<string, string> };

/** What policies see: the request as routed (normalised path, routing authority), never the raw target. */
export function requestContext(req: ClientRequest, routed: RoutedRequest, sourceIp: string): RequestContext {
  const headers: Record<string, string> = {};
  const raw = req.headers;
  for (const k in raw) {
    const v = raw[k];
    if (v === undefined || k.charCodeAt(0) === 58 /* pseudo-header */) continue;
    headers[k] = typeof v === 'string' ? v : v.join(', ');
  }
  // the Host policies read is the authority the request was routed by (an HTTP/2 request has no host
  // header; an absolute-form target overrides the one sent)
  headers.host = routed.rawHost;
  const { listener, rule } = routed;
  return {
    method: req.method ?? 'GET',
    path: routed.path,
    query: routed.search.length > 1 ? routed.search.slice(1) : '',
    host: routed.rawHost,
    headers,
    sourceIp,
    // the same for every request of a listener or rule: built once (hot path), frozen since it is shared
    gateway: (listener.policyGateway ??= Object.freeze({
      namespace: listener.gatewayNamespace,
      name: listener.gatewayName,
      listener: listener.name,
    })),
    route: (rule.policyRoute ??= Object.freeze({
      kind: rule.routeKind,
      namespace: rule.routeNamespace,
      name: rule.routeName,
      ruleIndex: rule.ruleIndex,
      ruleName: rule.ruleName,
    })),
  };
}

function merge(
  into: Record<string, string> | undefined,
  from: Record<string, string> | undefined,
): Record<string, string> | undefined {
  if (!from) return into;
  if (!into) return from;
  // several rate-limit policies (a route's own and a platform override): the most constrained one's
  // X-RateLimit-* headers stand, as within one policy
  const mine = into[REMAINING];
  const theirs = from[REMAINING];
  if (mine !== undefined && theirs !== undefined && Number(theirs) >= Number(mine)) {
    const rest = { ...from };
    for (const h of RATE_HEADERS) delete rest[h];
    return { ...into, ...rest };
  }
  return { ...into, ...from };
}

const REMAINING = 'x-ratelimit-remaining';
const RATE_HEADERS = ['x-ratelimit-limit', REMAINING, 'x-ratelimit-reset'];

/** Runs the policies; synchronous verdicts stay synchronous (no promise on the common path). */
export function evaluatePolicies(
  policies: readonly RequestPolicy[],
  ctx: RequestContext,
): PolicyOutcome | Promise<PolicyOutcome> {
  let headers: Record<string, string> | undefined;
  for (let i = 0; i < policies.length; i++) {
    const v = (policies[i] as RequestPolicy).evaluate(ctx);
    if (v instanceof Promise) return finishAsync(v, policies, i, ctx, headers);
    if (!v.allow) return v;
    headers = merge(headers, v.headers);
  }
  return { allow: true, headers };
}

async function finishAsync(
  pending: Promise<PolicyVerdict>,
  policies: readonly RequestPolicy[],
  from: number,
  ctx: RequestContext,
  headers: Record<string, string> | undefined,
): Promise<PolicyOutcome> {
  let v = await pending;
  for (let i = from; ;) {
    if (!v.allow) return v;
    headers = merge(headers, v.headers);
    if (++i >= policies.length) return { allow: true, headers };
    v = await (policies[i] as RequestPolicy).evaluate(ctx);
  }
}
