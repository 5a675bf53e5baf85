// The first half of the pipeline, shared by plain requests and upgrades: check the authority (Host,
// :authority, an absolute-form target) and the request target, normalise the path once
// (request-target.ts), pick the listener by that authority (421 when it is not the listener the TLS SNI
// chose), find the winning match, then choose the backend by weight. What this returns is the one request
// that routing, policies and the backend all see; everything it cannot read without guessing is refused.
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { normalizeHost } from '../analysis/hostnames.ts';
import { findMatch, selectHost, selectListener, type MatchRequest } from '../table/match.ts';
import type {
  CompiledBackend,
  CompiledBind,
  CompiledListener,
  CompiledRule,
  MatchEntry,
} from '../table/types.ts';
import {
  DEFAULT_REQUEST_TARGET_OPTIONS,
  isValidAuthority,
  normalizePath,
  parseRequestTarget,
  sameAuthority,
  type RequestTargetOptions,
} from './request-target.ts';

export type ClientRequest = IncomingMessage | Http2ServerRequest;

export interface RoutedRequest {
  /** the authority the request was routed by (Host, :authority or the absolute-form target's); the
   *  upstream Host is built from it */
  rawHost: string;
  listener: CompiledListener;
  entry: MatchEntry;
  rule: CompiledRule;
  /** the normalised path */
  path: string;
  /** '' or the raw query including its leading '?' */
  search: string;
  grpc: boolean;
}

/** An answer the proxy gives itself instead of routing: a refusal, a redirect, or `OPTIONS *`. */
export interface Refusal {
  status: number;
  message: string;
  /** the rule that decided (`host.duplicate`, `path.above-root`, `route.no-match`, ...), for the debug log */
  rule: string;
  listener?: CompiledListener;
  grpc: boolean;
  /** 307 of the escaped-slash redirect: the normalised path and the query */
  location?: string;
}

function sniListener(req: ClientRequest, bind: CompiledBind): CompiledListener | undefined | false {
  const servername = (req.socket as TLSSocket | undefined)?.servername;
  if (!servername) return false; // no SNI: nothing to compare with
  return selectListener(bind.listeners, normalizeHost(servername));
}

const refuse = (status: number, rule: string, message: string, grpc: boolean): Refusal => ({
  status,
  rule,
  message,
  grpc,
});

/**
 * The Host header lines of a request, from the raw headers: Node keeps only the first one in
 * `req.headers`, so a second (which another server might prefer) is only visible here.
 */
function hostLines(raw: readonly string[]): { count: number; first: string | undefined } {
  let count = 0;
  let first: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && (name.charCodeAt(0) | 0x20) === 104 && name.toLowerCase() === 'host') {
      if (count++ === 0) first = raw[i + 1];
    }
  }
  return { count, first };
}

/**
 * The authority a request names, or why it is refused (RFC 9112 §3.2: HTTP/1.1 needs exactly one valid
 * Host; RFC 9113 §8.3.1: on HTTP/2 `:authority` decides and a `host` naming another authority is malformed).
 */
function requestAuthority(req: ClientRequest, bind: CompiledBind, grpc: boolean): string | Refusal {
  const hosts = hostLines(req.rawHeaders);
  if (hosts.count > 1) return refuse(400, 'host.duplicate', 'more than one Host header', grpc);
  const authority = hosts.first;
  if (req.httpVersionMajor === 2) {
    const pseudo = req.headers[':authority'] as string | undefined;
    if (pseudo !== undefined) {
      if (!knownValid(bind, pseudo) && !isValidAuthority(pseudo))
        return refuse(400, 'host.invalid', 'the :authority is not a valid host[:port]', grpc);
      if (authority !== undefined && !sameAuthority(authority, pseudo))
        return refuse(
          400,
          'authority.mismatch',
          'the host header names another authority than :authority',
          grpc,
        );
      return pseudo;
    }
  }
  if (authority === undefined) return refuse(400, 'host.missing', 'missing Host header', grpc);
  if (authority === '') return refuse(400, 'host.empty', 'empty Host header', grpc);
  if (!knownValid(bind, authority) && !isValidAuthority(authority))
    return refuse(400, 'host.invalid', 'the Host header is not a valid host[:port]', grpc);
  return authority;
}

/**
 * A host the bind's host cache holds was valid when it was added (selectHost adds it, and the pipeline
 * calls selectHost only with an authority that passed the check), so the per-character check runs once
 * per distinct host instead of once per request.
 */
function knownValid(bind: CompiledBind, authority: string): boolean {
  return bind.hostCache.has(authority);
}

/** The methods the proxy serves, for the Allow header of a 405 (CONNECT) and of `OPTIONS *`. */
export const SERVED_METHODS = 'GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH, TRACE';

export function routeRequest(
  req: ClientRequest,
  bind: CompiledBind,
  options: Readonly<RequestTargetOptions> = DEFAULT_REQUEST_TARGET_OPTIONS,
): RoutedRequest | Refusal {
  const headers = req.headers;
  const ct = headers['content-type'];
  const grpc = ct !== undefined && ct.startsWith('application/grpc');
  const method = req.method ?? 'GET';
  if (method === 'CONNECT') return refuse(405, 'method.connect', 'CONNECT is not served by this proxy', grpc);
  const fromHeaders = requestAuthority(req, bind, grpc);
  if (typeof fromHeaders !== 'string') return fromHeaders;
  const target = parseRequestTarget(req.url ?? '', req.httpVersionMajor !== 2);
  if (!('form' in target)) return refuse(target.status, target.rule, target.reason, grpc);
  if (target.form === 'asterisk') {
    if (method !== 'OPTIONS')
      return refuse(400, 'target.asterisk', 'the * request target is only for OPTIONS', grpc);
    return refuse(200, 'target.asterisk', '', grpc); // OPTIONS *: the proxy answers for the server
  }
  // RFC 9112 §3.2.2: an absolute-form target's authority replaces the Host header
  const rawHost = target.authority ?? fromHeaders;
  const path = normalizePath(target.path, options);
  if (typeof path !== 'string') {
    const r = refuse(path.status, path.rule, path.reason, grpc);
    if (path.location !== undefined) r.location = path.location + target.search;
    return r;
  }
  const sel = selectHost(bind, rawHost);
  const listener = sel.listener;
  if (bind.tls) {
    // HTTP/2 connection reuse can bring a Host served by another listener (another certificate) than
    // the one the TLS server name chose: the client must retry on a new connection
    const byName = sniListener(req, bind);
    if (byName !== false && byName !== listener) {
      return {
        status: 421,
        rule: 'tls.misdirected',
        message: 'misdirected request: the host belongs to another listener than the TLS server name',
        listener: byName,
        grpc,
      };
    }
  }
  if (!listener) return refuse(404, 'route.no-listener', 'no listener for this host', grpc);
  const mreq: MatchRequest = {
    method,
    path,
    query: target.search.length > 1 ? target.search.slice(1) : '',
    // header matches read the Host the request was routed by, not one the client sent beside it
    headers: headers.host === rawHost ? headers : { ...headers, host: rawHost },
  };
  const entry = findMatch(sel, mreq, grpc);
  if (!entry) return { ...refuse(404, 'route.no-match', 'no route matches this request', grpc), listener };
  return { rawHost, listener, entry, rule: entry.rule, path, search: target.search, grpc };
}

/** Weighted choice among a rule's backends; undefined when none can take traffic (all weights 0). */
export function chooseBackend(rule: CompiledRule): CompiledBackend | undefined {
  const backends = rule.backends;
  if (backends.length === 1) return (backends[0] as CompiledBackend).weight > 0 ? backends[0] : undefined;
  if (rule.totalWeight <= 0) return undefined;
  let r = Math.random() * rule.totalWeight;
  for (const b of backends) {
    if (b.weight <= 0) continue;
    r -= b.weight;
    if (r < 0) return b;
  }
  return backends.findLast((b) => b.weight > 0);
}
