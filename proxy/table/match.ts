// Route lookup on the hot path. The host picks a listener (most specific hostname; that listener isolates
// its routes) and the ordered hostname groups on it; inside a group the path indexes narrow the candidates
// (exact map, then regexes, then prefix map probed at segment boundaries, longest first) and the first
// candidate whose method, headers and query match wins: candidates are pre-sorted in the spec's order.
import { hostnameMatches, normalizeHost } from '../analysis/hostnames.ts';
import type { CompiledBind, CompiledListener, HostSelection, MatchEntry, MatchGroup } from './types.ts';

const HOST_CACHE_LIMIT = 4096;
const SLASH = 47;

/** What matching reads of a request. `queryParams` is parsed lazily, only if a candidate needs it. */
export interface MatchRequest {
  method: string;
  path: string;
  /** raw query string without '?', '' when absent */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  queryParams?: Map<string, string>;
}

function groupsFor(listener: CompiledListener, host: string): MatchGroup[] {
  const groups: MatchGroup[] = [];
  const exact = listener.exactHosts.get(host);
  if (exact) groups.push(exact);
  for (const w of listener.wildcardHosts) {
    if (host.length > w.suffix.length && host.endsWith(w.suffix)) groups.push(w.group);
  }
  if (listener.anyHost) groups.push(listener.anyHost);
  return groups;
}

/** The listener whose hostname is the most specific match for `host` (listeners are pre-sorted). */
export function selectListener(
  listeners: readonly CompiledListener[],
  host: string,
): CompiledListener | undefined {
  for (const l of listeners) {
    if (l.hostname === undefined || hostnameMatches(l.hostname, host)) return l;
  }
  return undefined;
}

export function selectHost(bind: CompiledBind, rawHost: string): HostSelection {
  let sel = bind.hostCache.get(rawHost);
  if (sel !== undefined) return sel;
  const host = normalizeHost(rawHost);
  const listener = selectListener(bind.listeners, host);
  sel = { listener, groups: listener ? groupsFor(listener, host) : [] };
  if (bind.hostCache.size >= HOST_CACHE_LIMIT) bind.hostCache.clear();
  bind.hostCache.set(rawHost, sel);
  return sel;
}

function safeDecode(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/** First value wins for a repeated parameter (the spec lets implementations pick; this is stable). */
function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!query) return out;
  for (const part of query.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const name = safeDecode(eq < 0 ? part : part.slice(0, eq));
    if (!out.has(name)) out.set(name, safeDecode(eq < 0 ? '' : part.slice(eq + 1)));
  }
  return out;
}

function headerValue(headers: MatchRequest['headers'], name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v : v.join(', ');
}

function conditionsMatch(e: MatchEntry, req: MatchRequest): boolean {
  if (e.method !== undefined && e.method !== req.method) return false;
  if (e.headers !== undefined) {
    for (const h of e.headers) {
      const v = headerValue(req.headers, h.name);
      if (v === undefined) return false;
      if (h.exact !== undefined ? v !== h.exact : !h.regex!.test(v)) return false;
    }
  }
  if (e.query !== undefined) {
    const params = (req.queryParams ??= parseQuery(req.query));
    for (const q of e.query) {
      const v = params.get(q.name);
      if (v === undefined) return false;
      if (q.exact !== undefined ? v !== q.exact : !q.regex!.test(v)) return false;
    }
  }
  return true;
}

function firstMatching(list: readonly MatchEntry[] | undefined, req: MatchRequest): MatchEntry | undefined {
  if (list === undefined) return undefined;
  for (let i = 0; i < list.length; i++) {
    const e = list[i] as MatchEntry;
    if (conditionsMatch(e, req)) return e;
  }
  return undefined;
}

function grpcMatches(e: MatchEntry, path: string): boolean {
  const g = e.grpc!;
  // "/package.Service/Method"
  const slash = path.indexOf('/', 1);
  if (path.charCodeAt(0) !== SLASH || slash < 0 || path.indexOf('/', slash + 1) >= 0)
    return g.service === undefined && g.method === undefined && !g.serviceRegex && !g.methodRegex;
  const service = path.slice(1, slash);
  const method = path.slice(slash + 1);
  if (g.service !== undefined && g.service !== service) return false;
  if (g.method !== undefined && g.method !== method) return false;
  if (g.serviceRegex && !g.serviceRegex.test(service)) return false;
  if (g.methodRegex && !g.methodRegex.test(method)) return false;
  return true;
}

function matchGrpc(group: MatchGroup, req: MatchRequest): MatchEntry | undefined {
  for (const e of group.grpc) {
    if (grpcMatches(e, req.path) && conditionsMatch(e, req)) return e;
  }
  return undefined;
}

function matchHttp(group: MatchGroup, req: MatchRequest): MatchEntry | undefined {
  const path = req.path;
  if (group.exact.size !== 0) {
    const e = firstMatching(group.exact.get(path), req);
    if (e !== undefined) return e;
  }
  for (const e of group.regex) {
    if (e.pathRegex!.test(path) && conditionsMatch(e, req)) return e;
  }
  const lengths = group.prefixLengths;
  const len = path.length;
  for (let i = 0; i < lengths.length; i++) {
    const l = lengths[i] as number;
    let candidate: string;
    if (l === 1) candidate = '/';
    else if (l === len) candidate = path;
    else if (l < len && path.charCodeAt(l) === SLASH) candidate = path.slice(0, l);
    else continue;
    const e = firstMatching(group.prefix.get(candidate), req);
    if (e !== undefined) return e;
  }
  return undefined;
}

/**
 * The winning match for a request among the selected hostname groups, or undefined (404). gRPC
 * requests try GRPCRoutes first and fall back to HTTPRoutes.
 */
export function findMatch(sel: HostSelection, req: MatchRequest, isGrpc: boolean): MatchEntry | undefined {
  const groups = sel.groups;
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i] as MatchGroup;
    if (isGrpc && group.grpc.length !== 0) {
      const g = matchGrpc(group, req);
      if (g !== undefined) return g;
    }
    const e = matchHttp(group, req);
    if (e !== undefined) return e;
  }
  return undefined;
}
