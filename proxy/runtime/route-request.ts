// The first half of the pipeline, shared by plain requests and WebSocket upgrades: pick the listener by
// Host (421 when it is not the listener the TLS SNI chose), split path and query, find the winning match,
// then choose the backend by weight.
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

export type ClientRequest = IncomingMessage | Http2ServerRequest;

export interface RoutedRequest {
  rawHost: string;
  listener: CompiledListener;
  entry: MatchEntry;
  rule: CompiledRule;
  path: string;
  /** '' or the raw query including its leading '?' */
  search: string;
  grpc: boolean;
}

export interface Refusal {
  status: number;
  message: string;
  listener?: CompiledListener;
  grpc: boolean;
}

function splitTarget(url: string): { path: string; search: string } | undefined {
  if (url.charCodeAt(0) !== 47 /* / */) {
    // absolute-form (a client talking to us as a forward proxy) or '*'
    if (!/^https?:\/\//i.test(url)) return undefined;
    try {
      const u = new URL(url);
      return { path: u.pathname, search: u.search };
    } catch {
      return undefined;
    }
  }
  const q = url.indexOf('?');
  return q < 0 ? { path: url, search: '' } : { path: url.slice(0, q), search: url.slice(q) };
}

function sniListener(req: ClientRequest, bind: CompiledBind): CompiledListener | undefined | false {
  const servername = (req.socket as TLSSocket | undefined)?.servername;
  if (!servername) return false; // no SNI: nothing to compare with
  return selectListener(bind.listeners, normalizeHost(servername));
}

export function routeRequest(req: ClientRequest, bind: CompiledBind): RoutedRequest | Refusal {
  const headers = req.headers;
  const ct = headers['content-type'];
  const grpc = ct !== undefined && ct.startsWith('application/grpc');
  const rawHost =
    (req.httpVersionMajor === 2 ? (headers[':authority'] as string | undefined) : undefined) ?? headers.host;
  if (!rawHost) return { status: 400, message: 'missing Host header', grpc };
  const sel = selectHost(bind, rawHost);
  const listener = sel.listener;
  if (bind.tls) {
    // HTTP/2 connection reuse can bring a Host served by another listener (another certificate) than
    // the one the TLS server name chose: the client must retry on a new connection
    const byName = sniListener(req, bind);
    if (byName !== false && byName !== listener) {
      return {
        status: 421,
        message: 'misdirected request: the host belongs to another listener than the TLS server name',
        listener: byName,
        grpc,
      };
    }
  }
  if (!listener) return { status: 404, message: 'no listener for this host', grpc };
  const target = splitTarget(req.url ?? '/');
  if (!target) return { status: 400, message: 'unsupported request target', listener, grpc };
  const mreq: MatchRequest = {
    method: req.method ?? 'GET',
    path: target.path,
    query: target.search.length > 1 ? target.search.slice(1) : '',
    headers,
  };
  const entry = findMatch(sel, mreq, grpc);
  if (!entry) return { status: 404, message: 'no route matches this request', listener, grpc };
  return { rawHost, listener, entry, rule: entry.rule, path: target.path, search: target.search, grpc };
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
