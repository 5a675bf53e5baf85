// `tenantgate explain`: what the proxy would do with one request, and why. It compiles the snapshot with
// the proxy's own route-table compiler and attach hook (compileRouteTable + compileAttachedPolicies), picks
// the listener and the route with the proxy's own match code (selectHost, findMatch), and asks each policy
// in force — the very RequestPolicy objects the pipeline would run, on the real policy engine — for its
// decision. Nothing here is a second matcher or a second precedence: what it prints is what the data path
// does (apart from live rate-limit counters, which live in the proxy or in Redis).
import { GATEWAY_CONTROLLER_NAME } from '../api/common.ts';
import type { AttachedPolicies } from './attached-policies.ts';
import type { ProxyInputs } from './model/inputs.ts';
import { policiesInForce, type PolicyInForce } from './policies-in-force.ts';
import { RateLimitRequestPolicy } from './ratelimit/policy.ts';
import type {
  PolicyAttachmentPoint,
  PolicyVerdict,
  RequestContext,
  RequestPolicy,
} from './request-policy.ts';
import {
  DEFAULT_REQUEST_TARGET_OPTIONS,
  normalizeRequestPath,
  type RequestTargetOptions,
} from './runtime/request-target.ts';
import { compileRouteTable } from './table/compile.ts';
import { findMatch, selectHost, type MatchRequest } from './table/match.ts';
import type { CompiledBind, CompiledListener, MatchEntry } from './table/types.ts';

export interface ExplainRequest {
  gateway: { namespace: string; name: string };
  /** the listener the request arrives on (its port); default: the first of the Gateway's ports */
  listener?: string;
  host: string;
  /** the request target's path, query allowed, as a client would send it */
  path: string;
  method?: string;
  /** header names in any case */
  headers?: Record<string, string>;
  sourceIp?: string;
}

export interface ExplainOptions {
  controllerName?: string;
  /** the proxy's path settings (--merge-slashes, --escaped-slashes); default: the proxy's defaults */
  requestTarget?: Readonly<RequestTargetOptions>;
  /** --from-files: Gateways of any GatewayClass are served, as `tenantgate proxy --from-files` does */
  acceptUnknownClasses?: boolean;
}

export type PolicyDecision =
  /** allowed by an access rule, or no rate limit applies to this request */
  | 'allow'
  /** refused: the proxy answers with `status` */
  | 'refuse'
  /** rate limits that count this request; whether their budget is spent is known only to the live proxy */
  | 'counts';

export interface ExplainedPolicy extends PolicyInForce {
  decision: PolicyDecision;
  status?: number;
  /** why: the rule's reason, or the limits that count this request */
  detail: string;
}

export interface Explanation {
  request: {
    method: string;
    host: string;
    /** the path as given */
    rawPath: string;
    /** the path the proxy matches, policies see and the backend receives */
    path: string;
    query: string;
    sourceIp: string;
  };
  gateway: string;
  listener?: { name: string; hostname?: string; port: number; scheme: string };
  route?: {
    kind: string;
    namespace: string;
    name: string;
    ruleIndex: number;
    ruleName?: string;
    match: string;
  };
  /** every policy in force at the matched rule, in the order the proxy asks them */
  policies: ExplainedPolicy[];
  /** what the proxy answers: a status it gives itself, or that the request goes to the backends */
  outcome: { status?: number; forwarded: boolean; reason: string };
}

/**
 * The path the proxy routes by. ONE function: the request-normalisation work puts the proxy's own
 * normaliser here (normalizeRequestPath in proxy/runtime/request-target.ts), so explain and the data path
 * cannot disagree. Returns the path without its query, or why the proxy refuses the target (400).
 */
export function explainRequestPath(
  rawTarget: string,
  options: Readonly<RequestTargetOptions> = DEFAULT_REQUEST_TARGET_OPTIONS,
): { path: string; query: string } | { error: string; status: number } {
  const q = rawTarget.indexOf('?');
  const query = q < 0 ? '' : rawTarget.slice(q + 1);
  // the proxy's own normaliser, with the proxy's settings: what explain matches is what the proxy matches
  const normalized = normalizeRequestPath(q < 0 ? rawTarget : rawTarget.slice(0, q), options);
  if ('path' in normalized) return { path: normalized.path, query };
  const where = normalized.location !== undefined ? ` (redirected to ${normalized.location})` : '';
  return { error: `${normalized.reason} [${normalized.rule}]${where}`, status: normalized.status };
}

export async function explainRequest(
  inputs: ProxyInputs,
  policies: AttachedPolicies | undefined,
  req: ExplainRequest,
  options: ExplainOptions = {},
): Promise<Explanation> {
  const method = (req.method ?? 'GET').toUpperCase();
  const headers = Object.fromEntries(Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const sourceIp = req.sourceIp ?? '127.0.0.1';
  const gatewayKey = `${req.gateway.namespace}/${req.gateway.name}`;
  const target = explainRequestPath(req.path, options.requestTarget);
  const base: Explanation = {
    request: {
      method,
      host: req.host,
      rawPath: req.path,
      path: 'error' in target ? req.path : target.path,
      query: 'error' in target ? '' : target.query,
      sourceIp,
    },
    gateway: gatewayKey,
    policies: [],
    outcome: { forwarded: false, reason: '' },
  };
  /** the request never reaches a listener of this Gateway: there is no answer of the proxy to show */
  const unreachable = (reason: string): Explanation => ({ ...base, outcome: { forwarded: false, reason } });

  const result = compileRouteTable(inputs, {
    controllerName: options.controllerName ?? GATEWAY_CONTROLLER_NAME,
    defaultAddress: '0.0.0.0',
    acceptUnknownClasses: options.acceptUnknownClasses ?? false,
    gateways: new Set([gatewayKey]),
    attachPolicies: policies?.attach,
  });
  const gateway = result.analysis.gateways.find((g) => g.key === gatewayKey);
  if (!gateway) {
    const exists = inputs.gateways.some(
      (g) =>
        (g.metadata.namespace ?? 'default') === req.gateway.namespace && g.metadata.name === req.gateway.name,
    );
    return unreachable(
      exists
        ? `Gateway ${gatewayKey} is not served by this controller (its GatewayClass names another controllerName)`
        : `Gateway ${gatewayKey} not found`,
    );
  }
  const binds = [...result.table.binds.values()].sort((a, b) => a.port - b.port);
  const bind = pickBind(binds, req.listener);
  if (!bind) {
    const names = gateway.listeners.map((l) => `${l.name}${l.serving ? '' : ' (not served)'}`).join(', ');
    return unreachable(
      req.listener
        ? `Gateway ${gatewayKey} serves no listener named ${req.listener} (listeners: ${names || 'none'})`
        : `Gateway ${gatewayKey} serves no listener (listeners: ${names || 'none'})`,
    );
  }
  const sel = selectHost(bind, req.host);
  const listener = sel.listener;
  if (!listener) {
    const hosts = bind.listeners.map((l) => `${l.name}: ${l.hostname ?? '*'}`).join(', ');
    return {
      ...base,
      outcome: {
        status: 404,
        forwarded: false,
        reason: `no listener on port ${bind.port} accepts host ${req.host} (${hosts})`,
      },
    };
  }
  const withListener: Explanation = { ...base, listener: listenerInfo(listener) };
  if ('error' in target)
    return { ...withListener, outcome: { status: target.status, forwarded: false, reason: target.error } };
  const mreq: MatchRequest = { method, path: target.path, query: target.query, headers };
  const grpc = (headers['content-type'] ?? '').startsWith('application/grpc');
  const entry = findMatch(sel, mreq, grpc);
  if (!entry) {
    const note =
      req.listener && listener.name !== req.listener
        ? ` (host ${req.host} selects listener ${listener.name}, not ${req.listener})`
        : '';
    return {
      ...withListener,
      outcome: {
        status: 404,
        forwarded: false,
        reason: `no route rule on listener ${listener.name} matches this host, path, method and headers${note}`,
      },
    };
  }
  const rule = entry.rule;
  const route = {
    kind: rule.routeKind,
    namespace: rule.routeNamespace,
    name: rule.routeName,
    ruleIndex: rule.ruleIndex,
    ...(rule.ruleName ? { ruleName: rule.ruleName } : {}),
    match: describeMatch(entry),
  };
  const point: PolicyAttachmentPoint = {
    gateway: { namespace: listener.gatewayNamespace, name: listener.gatewayName },
    listener: listener.name,
    route: { kind: rule.routeKind, namespace: rule.routeNamespace, name: rule.routeName },
    ruleIndex: rule.ruleIndex,
    ...(rule.ruleName ? { ruleName: rule.ruleName } : {}),
  };
  const inForce = policies ? policiesInForce(policies.indexes.access, policies.indexes.rateLimit, point) : [];
  const ctx: RequestContext = {
    method,
    path: target.path,
    query: target.query,
    host: req.host,
    headers,
    sourceIp,
    gateway: { namespace: point.gateway.namespace, name: point.gateway.name, listener: listener.name },
    route: { ...point.route, ruleIndex: rule.ruleIndex, ruleName: rule.ruleName },
  };
  const explained: ExplainedPolicy[] = [];
  for (let i = 0; i < rule.policies.length; i++) {
    const policy = rule.policies[i]!;
    // the attach hook and policiesInForce read the same index in the same order
    const about: PolicyInForce = inForce[i] ?? {
      kind: policy.kind,
      id: policy.name,
      section: 'defaults',
      at: 'spec',
      target: '',
      invalid: false,
    };
    explained.push({ ...about, ...(await decide(policy, ctx)) });
  }
  const refusal = explained.find((p) => p.decision === 'refuse');
  const outcome: Explanation['outcome'] = refusal
    ? {
        status: refusal.status,
        forwarded: false,
        reason: `refused by ${refusal.kind} ${refusal.id}: ${refusal.detail}`,
      }
    : rule.invalid
      ? { status: 500, forwarded: false, reason: `the rule cannot be served as written: ${rule.invalid}` }
      : rule.redirect
        ? {
            status: rule.redirect.statusCode,
            forwarded: false,
            reason: 'the rule redirects (RequestRedirect)',
          }
        : rule.backends.length === 0 || rule.totalWeight <= 0
          ? { status: 500, forwarded: false, reason: 'the rule has no backend that can take traffic' }
          : {
              forwarded: true,
              reason: `forwarded to ${rule.backends
                .filter((b) => b.weight > 0)
                .map((b) => b.label)
                .join(
                  ', ',
                )}${explained.some((p) => p.decision === 'counts') ? ' unless a rate limit above is spent' : ''}`,
            };
  return { ...withListener, route, policies: explained, outcome };
}

function pickBind(binds: readonly CompiledBind[], listener: string | undefined): CompiledBind | undefined {
  if (!listener) return binds[0];
  return binds.find((b) => b.listeners.some((l: CompiledListener) => l.name === listener));
}

function listenerInfo(l: CompiledListener): NonNullable<Explanation['listener']> {
  return { name: l.name, ...(l.hostname ? { hostname: l.hostname } : {}), port: l.port, scheme: l.scheme };
}

function describeMatch(e: MatchEntry): string {
  const parts: string[] = [];
  if (e.pathKind === 'GRPC') {
    const g = e.grpc;
    parts.push(`gRPC ${g?.service ?? '*'}/${g?.method ?? '*'}`);
  } else parts.push(`${e.pathKind} ${e.pathRegex ? e.pathRegex.source : e.path}`);
  if (e.method) parts.push(`method ${e.method}`);
  for (const h of e.headers ?? []) parts.push(`header ${h.name}`);
  for (const q of e.query ?? []) parts.push(`query ${q.name}`);
  return parts.join(', ');
}

/**
 * One policy's decision. Access rules are evaluated for real. Rate limits are not charged (explain has
 * no live counters): it names the limits whose selectors count this request.
 */
async function decide(
  policy: RequestPolicy,
  ctx: RequestContext,
): Promise<Pick<ExplainedPolicy, 'decision' | 'status' | 'detail'>> {
  if (policy instanceof RateLimitRequestPolicy) {
    const counting = policy.limits.filter((l) => l.clientKey(ctx) !== undefined);
    if (counting.length === 0) return { decision: 'allow', detail: 'no limit of it applies to this request' };
    const list = counting.map((l) => `${l.name} (${l.requests} per ${l.unit.toLowerCase()})`).join(', ');
    return { decision: 'counts', detail: `counts against ${list}; over it: 429` };
  }
  const v: PolicyVerdict = await policy.evaluate(ctx);
  return v.allow
    ? { decision: 'allow', detail: 'allowed' }
    : { decision: 'refuse', status: v.status, detail: v.reason };
}
