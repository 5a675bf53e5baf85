// Header plumbing between client and backend: hop-by-hop headers removed both ways (RFC 9110 §7.6.1,
// plus the names a Connection header lists), X-Forwarded-For/-Proto/-Host added, and the header modifier
// filters (`set` replaces case-insensitively, `add` appends a line, `remove` drops every line).
import type { CompiledHeaderModifier } from '../table/types.ts';
import type { ResponseHeaders } from '../upstream/dispatcher.ts';

const HOP_BY_HOP =
  /^(?:connection|keep-alive|proxy-connection|transfer-encoding|upgrade|te|trailer|proxy-authenticate|expect|http2-settings|x-forwarded-proto|x-forwarded-host|x-forwarded-for)$/i;

/** Cheap first-character screen before the regex: every name above starts with one of these letters. */
function maybeSkipped(name: string): boolean {
  const c = name.charCodeAt(0) | 0x20;
  return c === 99 || c === 107 || c === 112 || c === 116 || c === 117 || c === 101 || c === 104 || c === 120;
}

export interface ForwardedInfo {
  clientIp: string;
  proto: 'http' | 'https';
  host: string;
}

/**
 * The headers to send upstream, as a flat [name, value, ...] list in the client's order and casing.
 * HTTP/2 pseudo-headers are dropped; the Host is `fwd.host`, the authority the request was routed by
 * (`:authority`, or an absolute-form target's authority over a Host header that named another), in the
 * place of the client's Host line or last; `te: trailers` survives for gRPC.
 */
export function upstreamHeaders(
  raw: readonly string[],
  fwd: ForwardedInfo,
  connectionTokens: Set<string> | undefined,
): string[] {
  const out: string[] = [];
  let xff: string | undefined;
  let sawHost = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const value = raw[i + 1] as string;
    if (name.charCodeAt(0) === 58 /* : */) continue;
    if (maybeSkipped(name) && HOP_BY_HOP.test(name)) {
      const lower = name.toLowerCase();
      if (lower === 'x-forwarded-for') xff = xff === undefined ? value : `${xff}, ${value}`;
      else if (lower === 'te' && value.toLowerCase() === 'trailers') out.push(name, value);
      continue;
    }
    if (connectionTokens !== undefined && connectionTokens.has(name.toLowerCase())) continue;
    if (name.length === 4 && name.toLowerCase() === 'host') {
      if (!sawHost) out.push(name, fwd.host);
      sawHost = true;
      continue;
    }
    out.push(name, value);
  }
  if (!sawHost) out.push('host', fwd.host);
  out.push(
    'x-forwarded-for',
    xff === undefined ? fwd.clientIp : `${xff}, ${fwd.clientIp}`,
    'x-forwarded-proto',
    fwd.proto,
    'x-forwarded-host',
    fwd.host,
  );
  return out;
}

/** Names listed by a Connection header other than keep-alive/close: they are hop-by-hop too. */
export function connectionTokens(connection: string | undefined): Set<string> | undefined {
  if (connection === undefined) return undefined;
  let tokens: Set<string> | undefined;
  for (const t of connection.split(',')) {
    const name = t.trim().toLowerCase();
    if (!name || name === 'keep-alive' || name === 'close' || name === 'upgrade') continue;
    (tokens ??= new Set()).add(name);
  }
  return tokens;
}

/** Applies a header modifier to a flat [name, value, ...] list; returns a new list. */
export function modifyFlatHeaders(flat: string[], m: CompiledHeaderModifier): string[] {
  const drop = new Set(m.remove);
  for (const [lower] of m.set) drop.add(lower);
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    if (drop.has((flat[i] as string).toLowerCase())) continue;
    out.push(flat[i] as string, flat[i + 1] as string);
  }
  for (const [, name, value] of m.set) out.push(name, value);
  for (const [lower, name, value] of m.add) {
    if (m.remove.has(lower)) continue;
    out.push(name, value);
  }
  return out;
}

/** Replaces (or adds) one header in a flat list, case-insensitively. */
export function setFlatHeader(flat: string[], name: string, value: string): string[] {
  const lower = name.toLowerCase();
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    if ((flat[i] as string).toLowerCase() !== lower) out.push(flat[i] as string, flat[i + 1] as string);
  }
  out.push(name, value);
  return out;
}

export type { ResponseHeaders } from '../upstream/dispatcher.ts';

const RARE_RESPONSE_HOP_BY_HOP = ['proxy-connection', 'upgrade', 'trailer', 'http2-settings'];

/** Strips hop-by-hop headers from a backend response (keys are lower-case, as the dispatchers give them). */
export function cleanResponseHeaders(h: ResponseHeaders): ResponseHeaders {
  const conn = h.connection;
  if (conn !== undefined) {
    // "keep-alive" and "close" (nearly every answer) name no other header
    if (conn !== 'keep-alive' && conn !== 'close') {
      const tokens = connectionTokens(Array.isArray(conn) ? conn.join(',') : conn);
      if (tokens) for (const t of tokens) delete h[t];
    }
    delete h.connection;
  }
  if (h['keep-alive'] !== undefined) delete h['keep-alive'];
  if (h['transfer-encoding'] !== undefined) delete h['transfer-encoding'];
  for (let i = 0; i < RARE_RESPONSE_HOP_BY_HOP.length; i++) {
    const name = RARE_RESPONSE_HOP_BY_HOP[i] as string;
    if (h[name] !== undefined) delete h[name];
  }
  return h;
}

/** Applies a header modifier to a lower-cased response header object, in place. */
export function modifyResponseHeaders(h: ResponseHeaders, m: CompiledHeaderModifier): void {
  for (const name of m.remove) delete h[name];
  for (const [lower, , value] of m.set) h[lower] = value;
  for (const [lower, , value] of m.add) {
    const prev = h[lower];
    h[lower] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
}
