// The request pipeline: route → policies → filters (CORS preflight, redirect) → backend choice →
// request headers and URL rewrite → mirrors → the upstream exchange; then metrics and the access log.
// Every failure becomes a short answer with the right status; nothing here throws at the client.
import type { Http2ServerRequest } from 'node:http2';
import { performance } from 'node:perf_hooks';
import type { Logger } from '../../lib/logger.ts';
import type { AccessLog } from './access-log.ts';
import { preflightHeaders, responseCorsHeaders } from './cors.ts';
import { BodyTooLargeError, Exchange, nextEndpoint, type ExchangeDone } from './forward.ts';
import { connectionTokens, modifyFlatHeaders, setFlatHeader, upstreamHeaders } from './headers.ts';
import { statsSlot } from './metrics.ts';
import { evaluatePolicies, requestContext, type PolicyOutcome } from './policies.ts';
import { replyEmpty, replyRedirect, replyText, type ClientResponse } from './replies.ts';
import type { RequestTargetOptions } from './request-target.ts';
import {
  chooseBackend,
  routeRequest,
  SERVED_METHODS,
  type ClientRequest,
  type Refusal,
  type RoutedRequest,
} from './route-request.ts';
import { hostWithoutPort, redirectLocation, rewritePath } from './url-filters.ts';
import type { UpstreamRegistry } from './upstreams.ts';
import type {
  CompiledBackend,
  CompiledBind,
  CompiledListener,
  CompiledMirror,
  CompiledRedirect,
  CompiledRule,
} from '../table/types.ts';
import type { UpstreamHandler } from '../upstream/dispatcher.ts';

export interface PipelineDeps {
  upstreams: UpstreamRegistry;
  accessLog: AccessLog;
  maxBodyBytes: number;
  log: Logger;
  /** how request paths are normalised (merged slashes, encoded slashes) */
  requestTarget: Readonly<RequestTargetOptions>;
}

/** What the end of a request is recorded against. */
interface Outcome {
  listener?: CompiledListener;
  rule?: CompiledRule;
  backend?: CompiledBackend;
  status: number;
  error?: string;
  upstream?: string;
  /** the request as routed (normalised path, authority), when it was */
  routed?: RoutedRequest;
}

export function clientIp(req: ClientRequest): string {
  const ip = req.socket?.remoteAddress ?? '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}

function record(deps: PipelineDeps, req: ClientRequest, started: number, o: Outcome): void {
  const seconds = (performance.now() - started) / 1000;
  const gateway = o.listener?.gatewayLabel ?? '';
  const route = o.rule?.routeLabel ?? '';
  const backend = o.backend?.label ?? '';
  const slot = o.backend ?? o.rule ?? o.listener;
  if (slot !== undefined) (slot.stats ??= statsSlot(gateway, route, backend)).record(o.status, seconds);
  else statsSlot('', '', '').record(o.status, seconds);
  if (!deps.accessLog.wants(o.status)) return;
  let path = o.routed?.path;
  if (path === undefined) {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    path = q < 0 ? url : url.slice(0, q);
  }
  deps.accessLog.log({
    gateway: gateway || undefined,
    listener: o.listener?.name,
    route: route || undefined,
    rule: o.rule?.ruleIndex,
    backend: backend || undefined,
    upstream: o.upstream,
    method: req.method ?? '',
    host: o.routed?.rawHost ?? String(req.headers.host ?? req.headers[':authority'] ?? ''),
    path,
    protocol: `HTTP/${req.httpVersion}`,
    status: o.status,
    durationMs: Math.round(seconds * 1e6) / 1e3,
    client: clientIp(req),
    error: o.error,
  });
}

function hasBody(req: ClientRequest): boolean {
  if (req.httpVersionMajor === 2) return !(req as Http2ServerRequest).stream.endAfterHeaders;
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

async function* limitedBody(req: ClientRequest, max: number): AsyncGenerator<Buffer> {
  let n = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    n += chunk.length;
    if (n > max) throw new BodyTooLargeError(`request body exceeds ${max} bytes`);
    yield chunk;
  }
}

async function bufferBody(req: ClientRequest, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of limitedBody(req, max)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

const DISCARD: UpstreamHandler = {
  onRequestStart() {},
  onResponseStart() {},
  onResponseData() {},
  onResponseEnd() {},
  onResponseError() {},
};

function sendMirrors(
  deps: PipelineDeps,
  mirrors: readonly CompiledMirror[],
  method: string,
  path: string,
  headers: string[],
  body: Buffer | null,
): void {
  for (const m of mirrors) {
    if (m.percent < 100 && Math.random() * 100 >= m.percent) continue;
    if (m.backend.errorStatus !== undefined || !m.backend.endpoints.length) continue;
    try {
      deps.upstreams.get(nextEndpoint(m.backend)).dispatch({ method, path, headers, body }, DISCARD);
    } catch (err) {
      deps.log.debug('mirror dispatch failed', { backend: m.backend.label, err });
    }
  }
}

/** Everything decided before the upstream call, carried through the (possibly async) steps. */
interface Pending {
  req: ClientRequest;
  res: ClientResponse;
  deps: PipelineDeps;
  started: number;
  routed: RoutedRequest;
  policyHeaders?: Record<string, string>;
  backend?: CompiledBackend;
}

function answer(p: Pending, status: number, message: string): void {
  replyText(p.res, status, message, p.policyHeaders, p.routed.grpc);
  record(p.deps, p.req, p.started, {
    listener: p.routed.listener,
    rule: p.routed.rule,
    backend: p.backend,
    status,
    error: message,
    routed: p.routed,
  });
}

function redirect(p: Pending, r: CompiledRedirect): void {
  const { listener, rawHost, path, search, entry } = p.routed;
  const location = redirectLocation(
    r,
    {
      scheme: listener.scheme,
      host: hostWithoutPort(rawHost),
      path,
      query: search.slice(1),
      listenerPort: listener.port,
    },
    entry,
  );
  replyRedirect(p.res, r.statusCode, location);
  record(p.deps, p.req, p.started, {
    listener,
    rule: p.routed.rule,
    backend: p.backend,
    status: r.statusCode,
    routed: p.routed,
  });
}

/** Request headers for the backend: hop-by-hop removed, X-Forwarded-* added, modifiers applied. */
function requestHeadersFor(
  p: Pending,
  rule: CompiledRule,
  backend: CompiledBackend,
  rewriteHost: string | undefined,
): string[] {
  const { req, routed } = p;
  const conn = req.httpVersionMajor === 1 ? req.headers.connection : undefined;
  const tokens =
    conn === undefined || conn === 'keep-alive' || conn === 'close' ? undefined : connectionTokens(conn);
  let headers = upstreamHeaders(
    req.rawHeaders,
    { clientIp: clientIp(req), proto: routed.listener.scheme, host: routed.rawHost },
    tokens,
  );
  if (rule.requestHeaders !== undefined) headers = modifyFlatHeaders(headers, rule.requestHeaders);
  if (backend.requestHeaders !== undefined) headers = modifyFlatHeaders(headers, backend.requestHeaders);
  if (rewriteHost !== undefined) headers = setFlatHeader(headers, 'host', rewriteHost);
  return headers;
}

function start(
  p: Pending,
  ex: Exchange,
  mirrors: readonly CompiledMirror[],
  body: Buffer | ClientRequest | AsyncIterable<Buffer> | null,
): void {
  if (mirrors.length !== 0)
    sendMirrors(
      p.deps,
      mirrors,
      ex.o.method,
      ex.o.path,
      ex.o.headers,
      body === null || Buffer.isBuffer(body) ? body : null,
    );
  ex.o.body = body as Buffer | null;
  ex.start();
}

function forward(p: Pending): void {
  const { req, res, deps, routed } = p;
  const { rule, entry } = routed;
  if (rule.invalid !== undefined) return answer(p, 500, 'route rule is invalid');
  let extra = p.policyHeaders;
  const origin = req.headers.origin;
  if (rule.cors !== undefined && origin !== undefined) {
    // a CORS preflight is answered here and never forwarded
    const acrm = req.headers['access-control-request-method'];
    if (req.method === 'OPTIONS' && acrm !== undefined) {
      replyEmpty(res, 200, {
        ...preflightHeaders(
          rule.cors,
          origin,
          String(acrm),
          req.headers['access-control-request-headers'] as string | undefined,
        ),
        ...extra,
      });
      return record(deps, req, p.started, { listener: routed.listener, rule, status: 200, routed });
    }
    const h = responseCorsHeaders(rule.cors, origin);
    if (h) extra = { ...extra, ...h };
  }
  if (rule.redirect !== undefined) return redirect(p, rule.redirect);
  if (rule.backends.length === 0) return answer(p, 500, 'route rule has no backends');
  const backend = chooseBackend(rule);
  if (backend === undefined) return answer(p, 500, 'route rule has no backend with a weight above zero');
  p.backend = backend;
  if (backend.redirect !== undefined) return redirect(p, backend.redirect);
  if (backend.errorStatus !== undefined)
    return answer(
      p,
      backend.errorStatus,
      backend.errorStatus === 503 ? 'no healthy upstream' : 'backend not resolved',
    );

  const rewrite = backend.rewrite ?? rule.rewrite;
  const headers = requestHeadersFor(p, rule, backend, rewrite?.hostname);
  const path = rewrite !== undefined ? rewritePath(routed.path, rewrite.path, entry) : routed.path;
  const mirrors = backend.mirrors.length !== 0 ? [...rule.mirrors, ...backend.mirrors] : rule.mirrors;
  const ex = new Exchange({
    res,
    rule,
    backend,
    method: req.method ?? 'GET',
    path: routed.search ? path + routed.search : path,
    headers,
    body: null,
    extraResponseHeaders: extra,
    grpc: routed.grpc,
    upstreams: deps.upstreams,
    onDone: (d: ExchangeDone) =>
      record(deps, req, p.started, {
        listener: routed.listener,
        rule,
        backend,
        status: d.status,
        error: d.error,
        upstream: d.endpoint,
        routed,
      }),
  });
  if (!hasBody(req)) return start(p, ex, mirrors, null);
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > deps.maxBodyBytes) return answer(p, 413, 'request body too large');
  if (rule.retry !== undefined || mirrors.length !== 0) {
    // a body that may be sent more than once is read first
    bufferBody(req, deps.maxBodyBytes).then(
      (body) => {
        try {
          start(p, ex, mirrors, body);
        } catch (err) {
          deps.log.error('request failed', { err });
          answer(p, 500, 'internal proxy error');
        }
      },
      (err: unknown) =>
        answer(
          p,
          err instanceof BodyTooLargeError ? 413 : 400,
          err instanceof BodyTooLargeError ? 'request body too large' : 'could not read the request body',
        ),
    );
    return;
  }
  start(p, ex, mirrors, Number.isFinite(declared) ? req : limitedBody(req, deps.maxBodyBytes));
}

function afterPolicies(p: Pending, outcome: PolicyOutcome): void {
  if (!outcome.allow) {
    replyText(p.res, outcome.status, outcome.reason, outcome.headers, p.routed.grpc);
    record(p.deps, p.req, p.started, {
      listener: p.routed.listener,
      rule: p.routed.rule,
      status: outcome.status,
      error: outcome.reason,
      routed: p.routed,
    });
    return;
  }
  p.policyHeaders = outcome.headers;
  forward(p);
}

/** One debug line per answer the proxy gives instead of routing, naming the rule that decided. */
export function logRefusal(deps: PipelineDeps, req: ClientRequest, r: Refusal): void {
  if (!deps.log.isDebugEnabled()) return;
  const target = req.url ?? '';
  deps.log.debug('request not routed', {
    rule: r.rule,
    status: r.status,
    reason: r.message,
    method: req.method,
    target: target.length > 512 ? `${target.slice(0, 512)}...` : target,
    host: req.headers.host ?? req.headers[':authority'],
    protocol: `HTTP/${req.httpVersion}`,
    client: clientIp(req),
    ...(r.location !== undefined ? { location: r.location } : {}),
  });
}

export function handleRequest(
  req: ClientRequest,
  res: ClientResponse,
  bind: CompiledBind | undefined,
  deps: PipelineDeps,
): void {
  const started = performance.now();
  if (bind === undefined) {
    replyText(res, 404, 'this listener is no longer served');
    return record(deps, req, started, { status: 404 });
  }
  const routed = routeRequest(req, bind, deps.requestTarget);
  if (!('entry' in routed)) {
    logRefusal(deps, req, routed);
    if (routed.location !== undefined) replyRedirect(res, routed.status, routed.location);
    else if (routed.status === 200)
      replyEmpty(res, 200, { allow: SERVED_METHODS }); // OPTIONS *
    else replyText(res, routed.status, routed.message, undefined, routed.grpc);
    return record(deps, req, started, {
      listener: routed.listener,
      status: routed.status,
      error: routed.message || undefined,
    });
  }
  const p: Pending = { req, res, deps, started, routed };
  const policies = routed.rule.policies;
  if (policies.length === 0) return forward(p);
  let outcome: PolicyOutcome | Promise<PolicyOutcome>;
  try {
    outcome = evaluatePolicies(policies, requestContext(req, routed, clientIp(req)));
  } catch (err) {
    deps.log.error('policy evaluation failed', { route: routed.rule.routeLabel, err });
    outcome = { allow: false, status: 500, reason: 'policy evaluation failed' };
  }
  if (outcome instanceof Promise) {
    outcome
      .then(
        (o) => afterPolicies(p, o),
        (err: unknown) => {
          deps.log.error('policy evaluation failed', { route: routed.rule.routeLabel, err });
          afterPolicies(p, { allow: false, status: 500, reason: 'policy evaluation failed' });
        },
      )
      .catch((err: unknown) => {
        // off the server's stack now: a failure here must still answer, not become an unhandled rejection
        deps.log.error('request failed', { err });
        if (res.headersSent) res.destroy();
        else answer(p, 500, 'internal proxy error');
      });
  } else afterPolicies(p, outcome);
}
