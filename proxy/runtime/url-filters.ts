// RequestRedirect and URLRewrite path and Location computation. ReplacePrefixMatch replaces exactly the
// matched prefix, segment-wise (`/prefix` → `/` on `/prefix/three` gives `/three`, never `//three` nor an
// empty path); the query string is always kept verbatim. A redirect without a port keeps the listener's
// port unless it changes the scheme, and a scheme's default port is left out of the Location.
import type { CompiledPathModifier, CompiledRedirect, MatchEntry } from '../table/types.ts';

export function rewritePath(
  path: string,
  modifier: CompiledPathModifier | undefined,
  entry: MatchEntry,
): string {
  if (!modifier) return path;
  if (modifier.type === 'ReplaceFullPath') return modifier.value || '/';
  if (entry.pathKind !== 'PathPrefix') return path; // ReplacePrefixMatch is only defined for prefix matches
  const prefix = entry.path;
  let rest = prefix === '/' ? path : path.slice(prefix.length);
  if (rest === '/' && prefix === '/') rest = '';
  let replacement = modifier.value;
  if (replacement.endsWith('/') && (rest === '' || rest.startsWith('/')))
    replacement = replacement.slice(0, -1);
  const out = replacement + rest;
  return out === '' ? '/' : out.startsWith('/') ? out : `/${out}`;
}

const DEFAULT_PORT: Record<string, number> = { http: 80, https: 443 };

export interface RedirectRequest {
  scheme: 'http' | 'https';
  /** Host header without the port */
  host: string;
  path: string;
  query: string;
  listenerPort: number;
}

export function redirectLocation(r: CompiledRedirect, req: RedirectRequest, entry: MatchEntry): string {
  const scheme = r.scheme ?? req.scheme;
  const host = r.hostname ?? req.host;
  const port = r.port ?? (r.scheme !== undefined ? DEFAULT_PORT[scheme] : req.listenerPort);
  const portPart = port === undefined || port === DEFAULT_PORT[scheme] ? '' : `:${port}`;
  const path = rewritePath(req.path, r.path, entry);
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${hostPart}${portPart}${path}${req.query ? `?${req.query}` : ''}`;
}

/** The Host header without its port, case kept. */
export function hostWithoutPort(rawHost: string): string {
  if (rawHost.startsWith('[')) {
    const end = rawHost.indexOf(']');
    return end > 0 ? rawHost.slice(1, end) : rawHost;
  }
  const colon = rawHost.indexOf(':');
  return colon < 0 ? rawHost : rawHost.slice(0, colon);
}
