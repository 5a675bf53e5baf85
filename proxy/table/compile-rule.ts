// One route rule, as attached to one listener, compiled into plain data (RuleIR): filters, weighted
// backends with their endpoints (and their own filters), mirrors, timeouts, retries and the names of the
// policies the AttachPolicies hook puts in force at this attachment point.
import { compileFilters, type CompiledFilterSet } from './compile-filters.ts';
import { parseDuration } from './duration.ts';
import type { BackendResolution } from '../analysis/backends.ts';
import type { RouteInfo } from '../analysis/routes.ts';
import type { HTTPBackendRef, HTTPRouteRule } from '../model/gateway-api.ts';
import type { AttachPolicies, RequestPolicy } from '../request-policy.ts';
import type { BackendIR, EndpointIR, ListenerIR, MirrorIR, PolicyRefIR, RetryIR, RuleIR } from './ir.ts';

const DEFAULT_RETRY_BACKOFF_MS = 25;

export interface RuleContext {
  route: RouteInfo;
  ruleIndex: number;
  listener: ListenerIR;
  /** the listener's index in the IR */
  listenerIndex: number;
  attachPolicies?: AttachPolicies;
  /** collects every upstream key the table uses */
  upstreamKeys: Set<string>;
  /** memo: one endpoint list per resolved Service port, shared by every backend naming it */
  endpointsMemo: Map<string, EndpointIR[]>;
  /** memo: one ref list per policy list the hook returns (the hook shares lists between rules) */
  policyRefsMemo: WeakMap<readonly RequestPolicy[], PolicyRefIR[]>;
}

function endpointsFor(resolution: Extract<BackendResolution, { ok: true }>, ctx: RuleContext): EndpointIR[] {
  const memoKey = `${resolution.protocol}|${resolution.namespace}/${resolution.name}|${resolution.servicePort.name ?? ''}`;
  const memo = ctx.endpointsMemo.get(memoKey);
  if (memo) return memo;
  const upstreamKeys = ctx.upstreamKeys;
  const list = resolution.endpoints.map((ep): EndpointIR => {
    const host = ep.address.includes(':') ? `[${ep.address}]` : ep.address;
    const key = `${resolution.protocol}|${host}:${ep.port}`;
    upstreamKeys.add(key);
    return {
      key,
      origin: `http://${host}:${ep.port}`,
      address: ep.address,
      port: ep.port,
      protocol: resolution.protocol,
    };
  });
  ctx.endpointsMemo.set(memoKey, list);
  return list;
}

function backendFrom(
  resolution: BackendResolution | undefined,
  label: string,
  weight: number,
  ctx: RuleContext,
): BackendIR {
  const base = { label, weight, mirrors: [] };
  if (!resolution)
    return {
      ...base,
      errorStatus: 500,
      errorMessage: `${label}: not resolved`,
      endpoints: [],
      protocol: 'http1',
    };
  if (!resolution.ok)
    return { ...base, errorStatus: 500, errorMessage: resolution.message, endpoints: [], protocol: 'http1' };
  const endpoints = endpointsFor(resolution, ctx);
  const backend: BackendIR = { ...base, endpoints, protocol: resolution.protocol };
  if (!endpoints.length) {
    backend.errorStatus = 503;
    backend.errorMessage = `no ready endpoints for Service ${resolution.namespace}/${resolution.name} port ${resolution.port}`;
  }
  return backend;
}

function refLabel(ref: { namespace?: string; name: string; port?: number }, routeNamespace: string): string {
  return `${ref.namespace ?? routeNamespace}/${ref.name}${ref.port !== undefined ? `:${ref.port}` : ''}`;
}

function mirrorsFrom(
  set: CompiledFilterSet,
  resolutions: BackendResolution[],
  cursor: { i: number },
  ctx: RuleContext,
): MirrorIR[] {
  return set.mirrors.map(({ filter, percent }) => {
    const resolution = resolutions[cursor.i++];
    const label = refLabel(filter.requestMirror!.backendRef, ctx.route.namespace);
    return { percent, backend: backendFrom(resolution, label, 1, ctx) };
  });
}

function compileRetry(rule: HTTPRouteRule): RetryIR | undefined {
  const r = rule.retry;
  if (!r) return undefined;
  const attempts = r.attempts ?? 1;
  if (attempts <= 0) return undefined;
  return {
    codes: [...new Set(r.codes ?? [])],
    attempts,
    backoffMs: parseDuration(r.backoff) ?? DEFAULT_RETRY_BACKOFF_MS,
  };
}

function policyRefs(ctx: RuleContext, rule: HTTPRouteRule): PolicyRefIR[] {
  const { route, ruleIndex, listener } = ctx;
  const list = ctx.attachPolicies?.({
    gateway: { namespace: listener.gatewayNamespace, name: listener.gatewayName },
    listener: listener.name,
    route: { kind: route.kind, namespace: route.namespace, name: route.name },
    ruleIndex,
    ruleName: rule.name,
  });
  if (!list?.length) return [];
  let refs = ctx.policyRefsMemo.get(list);
  if (!refs) ctx.policyRefsMemo.set(list, (refs = list.map((p) => ({ kind: p.kind, name: p.name }))));
  return refs;
}

export function compileRule(rule: HTTPRouteRule, ctx: RuleContext): RuleIR {
  const { route, ruleIndex } = ctx;
  const where = `${route.kind} ${route.key} rule ${ruleIndex}`;
  const filters = compileFilters(rule.filters, where);
  const refs = route.rules[ruleIndex] ?? { backends: [], mirrors: [] };
  const mirrorCursor = { i: 0 };
  const mirrors = mirrorsFrom(filters, refs.mirrors, mirrorCursor, ctx);
  let invalid = filters.invalid;
  const backendRefs: HTTPBackendRef[] = rule.backendRefs ?? [];
  const backends = backendRefs.map((ref, i) => {
    const b = backendFrom(refs.backends[i], refLabel(ref, route.namespace), ref.weight ?? 1, ctx);
    const bf = compileFilters(ref.filters, `${where} backendRef ${i}`);
    if (bf.invalid) {
      b.errorStatus = 500;
      b.errorMessage = bf.invalid;
    }
    b.requestHeaders = bf.requestHeaders;
    b.responseHeaders = bf.responseHeaders;
    b.rewrite = bf.rewrite;
    b.redirect = bf.redirect;
    b.mirrors = mirrorsFrom(bf, refs.mirrors, mirrorCursor, ctx);
    return b;
  });
  const requestMs = parseDuration(rule.timeouts?.request);
  const backendMs = parseDuration(rule.timeouts?.backendRequest);
  if (
    (rule.timeouts?.request && requestMs === undefined) ||
    (rule.timeouts?.backendRequest && backendMs === undefined)
  ) {
    invalid ??= `${where}: timeouts must be Gateway API durations such as 500ms or 1m30s`;
  }
  return {
    routeKind: route.kind,
    routeNamespace: route.namespace,
    routeName: route.name,
    routeLabel: route.key,
    ruleIndex,
    ruleName: rule.name,
    listener: ctx.listenerIndex,
    invalid,
    policies: policyRefs(ctx, rule),
    requestHeaders: filters.requestHeaders,
    responseHeaders: filters.responseHeaders,
    redirect: filters.redirect,
    rewrite: filters.rewrite,
    mirrors,
    cors: filters.cors,
    backends,
    totalWeight: backends.reduce((sum, b) => sum + Math.max(0, b.weight), 0),
    requestTimeoutMs: requestMs ?? 0,
    backendTimeoutMs: backendMs ?? 0,
    retry: compileRetry(rule),
  };
}
