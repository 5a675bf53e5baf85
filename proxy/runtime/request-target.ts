// The request target, parsed and normalised once, before routing: what the route table matches, what the
// attached policies read and what the backend receives are all this one result (docs/proxy.md has the
// table). The path gets RFC 3986 §6.2.2 normalisation (unreserved escapes decoded, other escapes
// upper-cased, dot segments removed), repeated slashes merged (unless turned off), and encoded `/` or `\`
// handled as configured (like Envoy's pathWithEscapedSlashesAction), because a backend that decodes them
// would otherwise see another path than the one routed. Whatever cannot be normalised without guessing is
// refused with 400. The query string is left as written. Pure: no I/O, no request objects.

export type EscapedSlashesAction = 'keep' | 'reject' | 'unescape-and-redirect';

export const ESCAPED_SLASHES_ACTIONS: readonly EscapedSlashesAction[] = [
  'keep',
  'reject',
  'unescape-and-redirect',
];

export interface RequestTargetOptions {
  /** `/a//b` → `/a/b` (default true) */
  mergeSlashes: boolean;
  /** what `%2F`, `%5C` and a raw `\` in the path get (default 'reject': 400) */
  escapedSlashes: EscapedSlashesAction;
}

export const DEFAULT_REQUEST_TARGET_OPTIONS: Readonly<RequestTargetOptions> = Object.freeze({
  mergeSlashes: true,
  escapedSlashes: 'reject',
});

/**
 * Why a target is not routed: the status the proxy answers with, a short reason for the client, and the
 * name of the rule (for the debug log and `tenantgate explain`). A 307 carries the path to redirect to.
 */
export interface TargetRefusal {
  status: number;
  reason: string;
  rule: string;
  /** unescape-and-redirect: the normalised path (without the query) the client is sent to */
  location?: string;
}

/**
 * The normalised form of a raw path (no query string), or why it has none. This is the one function every
 * reader of a request path goes through (the proxy before routing, `tenantgate explain`).
 */
export function normalizeRequestPath(
  rawPath: string,
  options: Readonly<RequestTargetOptions> = DEFAULT_REQUEST_TARGET_OPTIONS,
): { path: string } | TargetRefusal {
  const r = normalizePath(rawPath, options);
  return typeof r === 'string' ? { path: r } : r;
}

const SLASH = 47;
const DOT = 46;
const PERCENT = 37;
const BACKSLASH = 92;
const HASH = 35;
const QUESTION = 63;
const SEMICOLON = 59;

const refusal = (status: number, rule: string, reason: string): TargetRefusal => ({ status, rule, reason });

const BAD_CHARACTER = refusal(
  400,
  'target.character',
  'the request target contains a control character, a space or a non-ASCII byte',
);
const FRAGMENT = refusal(400, 'target.fragment', 'the request target must not contain a fragment (#)');
const NOT_ABSOLUTE_PATH = refusal(400, 'target.form', 'the request path must start with /');
const NOT_ABSOLUTE_PATH_QUERY = refusal(
  400,
  'target.form',
  'the path must not contain "?" (split the query first)',
);
const INVALID_ESCAPE = refusal(400, 'path.invalid-escape', 'the path contains an invalid percent escape');
const ABOVE_ROOT = refusal(400, 'path.above-root', 'the path climbs above the root with ..');
const DOT_PARAMETER = refusal(
  400,
  'path.dot-segment-parameter',
  'the path contains a dot segment with parameters (..;)',
);
const ESCAPED_SLASH = refusal(
  400,
  'path.escaped-slash',
  'the path contains an encoded / or \\ (%2F, %5C) or a backslash',
);

/**
 * The hot path: the normalised path as a string (the input itself when it is already normal, which is
 * nearly every request: one scan, no allocation), or a refusal.
 */
export function normalizePath(raw: string, o: Readonly<RequestTargetOptions>): string | TargetRefusal {
  const n = raw.length;
  if (n === 0 || raw.charCodeAt(0) !== SLASH) return NOT_ABSOLUTE_PATH;
  for (let i = 0; i < n; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return BAD_CHARACTER;
    if (c === PERCENT || c === BACKSLASH || c === HASH || c === QUESTION) return slowPath(raw, o);
    if (c === SLASH) {
      const next = raw.charCodeAt(i + 1);
      if (next === SLASH && o.mergeSlashes) return slowPath(raw, o);
      // "/." starts a dot segment ("/.", "/..", "/.;", "/..;") or a name like "/.well-known"
      if (next === DOT) return slowPath(raw, o);
    }
  }
  return raw;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

function isUnreserved(c: number): boolean {
  return (
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    (c >= 48 && c <= 57) ||
    c === 45 ||
    c === 46 ||
    c === 95 ||
    c === 126
  );
}

const HEX = '0123456789ABCDEF';

function slowPath(raw: string, o: Readonly<RequestTargetOptions>): string | TargetRefusal {
  // 1. characters and escapes: decode unreserved, upper-case the rest, apply the escaped-slash action;
  // runs of ordinary characters are copied as slices
  let decoded = '';
  let unescapedSlash = false;
  let run = 0; // start of the pending run of ordinary characters
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return BAD_CHARACTER;
    if (c === HASH) return FRAGMENT;
    if (c === QUESTION) return NOT_ABSOLUTE_PATH_QUERY;
    if (c !== PERCENT && c !== BACKSLASH) continue;
    decoded += raw.slice(run, i);
    let slashLike = 0x5c; // a raw backslash, or the byte an escape encodes
    if (c === PERCENT) {
      const hi = hexValue(raw.charCodeAt(i + 1));
      const lo = hexValue(raw.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) return INVALID_ESCAPE;
      slashLike = hi * 16 + lo;
      i += 2;
    }
    run = i + 1;
    if (slashLike !== 0x2f && slashLike !== 0x5c) {
      decoded += isUnreserved(slashLike)
        ? String.fromCharCode(slashLike)
        : `%${HEX[slashLike >> 4]}${HEX[slashLike & 15]}`;
      continue;
    }
    if (o.escapedSlashes === 'reject') return ESCAPED_SLASH;
    if (o.escapedSlashes === 'keep') decoded += slashLike === 0x2f ? '%2F' : '%5C';
    else {
      decoded += '/';
      unescapedSlash = true;
    }
  }
  decoded += raw.slice(run);
  // 2. segments: merge empty ones (unless turned off), remove dot segments, refuse climbing above the root
  const parts = decoded.split('/');
  const out: string[] = [];
  let trailingSlash = false;
  const last = parts.length - 1;
  for (let i = 1; i <= last; i++) {
    const seg = parts[i] as string;
    trailingSlash = false;
    if (seg === '') {
      if (i === last) trailingSlash = true;
      else if (!o.mergeSlashes) out.push(seg);
      continue;
    }
    if (seg.charCodeAt(0) === DOT) {
      if (seg === '.') {
        trailingSlash = i === last;
        continue;
      }
      if (seg === '..') {
        if (out.length === 0) return ABOVE_ROOT;
        out.pop();
        trailingSlash = i === last;
        continue;
      }
      // "..;x" and ".;x" mean ".." and "." to servers that strip path parameters (Tomcat, Jetty)
      if (seg.charCodeAt(1) === SEMICOLON || (seg.charCodeAt(1) === DOT && seg.charCodeAt(2) === SEMICOLON))
        return DOT_PARAMETER;
    }
    out.push(seg);
  }
  let path = `/${out.join('/')}`;
  if (trailingSlash && out.length !== 0) path += '/';
  if (unescapedSlash)
    return {
      status: 307,
      rule: 'path.escaped-slash',
      reason: 'the path contained an encoded / or \\; redirecting to the unescaped path',
      location: path,
    };
  return path;
}

/** A request target split into its parts, before the path is normalised. */
export interface ParsedTarget {
  form: 'origin' | 'absolute' | 'asterisk';
  /** the authority of an absolute-form target (`host[:port]`), else undefined */
  authority?: string;
  /** the raw path ('*' for asterisk-form) */
  path: string;
  /** '' or the raw query including its leading '?' */
  search: string;
}

const INVALID_AUTHORITY = refusal(400, 'host.invalid', 'the Host (or :authority) is not a valid host[:port]');
const USERINFO = refusal(
  400,
  'authority.userinfo',
  'the request target must not carry user information (user@host)',
);
const BAD_TARGET = refusal(
  400,
  'target.form',
  'unsupported request target: expected /path, http(s)://authority/path or * (OPTIONS only)',
);

/**
 * Splits a request target (RFC 9112 §3.2): origin-form `/path?q`, absolute-form `http://host/path?q`
 * (the proxy then routes by its authority, §3.2.2) and asterisk-form `*`. `absoluteAllowed` is false on
 * HTTP/2, whose `:path` is only ever origin-form or `*`.
 */
export function parseRequestTarget(target: string, absoluteAllowed: boolean): ParsedTarget | TargetRefusal {
  if (target.charCodeAt(0) === SLASH) {
    const q = target.indexOf('?');
    return q < 0
      ? { form: 'origin', path: target, search: '' }
      : { form: 'origin', path: target.slice(0, q), search: target.slice(q) };
  }
  if (target === '*') return { form: 'asterisk', path: '*', search: '' };
  if (!absoluteAllowed) return BAD_TARGET;
  const m = /^https?:\/\//i.exec(target);
  if (m === null) return BAD_TARGET;
  const start = m[0].length;
  let end = start;
  while (end < target.length) {
    const c = target.charCodeAt(end);
    if (c === SLASH || c === QUESTION || c === HASH) break;
    end++;
  }
  const authority = target.slice(start, end);
  if (authority.includes('@')) return USERINFO;
  if (!isValidAuthority(authority)) return INVALID_AUTHORITY;
  const rest = target.slice(end);
  if (rest.charCodeAt(0) === HASH) return FRAGMENT;
  const q = rest.indexOf('?');
  const path = q < 0 ? rest : rest.slice(0, q);
  return { form: 'absolute', authority, path: path || '/', search: q < 0 ? '' : rest.slice(q) };
}

/**
 * `host[:port]` as the proxy accepts it in Host, `:authority` and absolute-form targets: a DNS-style name
 * (letters, digits, `-`, `.`, `_`, `~`), an IPv4 address, or an IPv6 literal in brackets; the port 0-65535
 * digits. Stricter than RFC 3986's reg-name on purpose: sub-delimiters and escapes in a hostname have no
 * use behind a Gateway and could make the listener's host and the backend's disagree.
 */
export function isValidAuthority(authority: string): boolean {
  const n = authority.length;
  if (n === 0 || n > 261) return false;
  let i = 0;
  if (authority.charCodeAt(0) === 91 /* [ */) {
    const close = authority.indexOf(']');
    if (close < 3) return false;
    for (let j = 1; j < close; j++) {
      const c = authority.charCodeAt(j);
      if (!(hexValue(c) >= 0 || c === 58 /* : */ || c === DOT)) return false;
    }
    i = close + 1;
  } else {
    for (; i < n; i++) {
      const c = authority.charCodeAt(i);
      if (c === 58) break;
      if (!isUnreserved(c)) return false;
    }
    if (i === 0) return false;
  }
  if (i === n) return true;
  if (authority.charCodeAt(i) !== 58) return false;
  const port = authority.slice(i + 1);
  if (port.length > 5) return false;
  for (let j = 0; j < port.length; j++) {
    const c = port.charCodeAt(j);
    if (c < 48 || c > 57) return false;
  }
  return port.length === 0 || Number(port) <= 65535;
}

/** Two authorities name the same host and port (host case-insensitively). */
export function sameAuthority(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}
