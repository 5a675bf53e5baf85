// clientSelectors → a function from a request to the client part of a counter key, or undefined when the
// limit does not apply to that request. Every selector, and every part of a selector, must match.
// Exact parts only gate; Distinct parts also name the counter (one counter per distinct value).
//
// How Distinct header values name a counter depends on where it lives:
// - 'verbatim' (the in-process store): the values themselves, each as `<length>:<value>`, so two clients
//   never share a counter (a value cannot pass for a boundary) and no hash is computed per request. Values
//   longer than MAX_VERBATIM together are named by a digest instead (`#` + 22 base64url characters, which
//   no verbatim key starts with), so no key grows with what a client sends.
// - 'digest' (Redis): a SHA-256 digest, as before: header values can be secrets (API keys) and must not be
//   written to a shared server, and the Redis round trip dwarfs the hash. The key format is unchanged, so
//   counters in a running Redis carry over an upgrade.
import { hash } from 'node:crypto';
import type { ClientSelector } from '../../api/ratelimitpolicy.ts';
import type { RequestContext } from '../request-policy.ts';
import { canonicalIp, cidrContains, parseCidr, parseIp, type Cidr, type ParsedIp } from './cidr.ts';

/** '' when the limit has no Distinct part (one shared counter); undefined when it does not apply. */
export type ClientKeyFn = (ctx: RequestContext) => string | undefined;

export type ClientKeying = 'verbatim' | 'digest';

/** Distinct header values longer than this (together, with their length prefixes) are digested. */
export const MAX_VERBATIM = 64;

interface HeaderPart {
  readonly name: string;
  readonly distinct: boolean;
  readonly value: string | undefined;
}

interface CidrPart {
  readonly cidr: Cidr;
  readonly distinct: boolean;
}

/** Assumes selectors passed validate.ts (CIDRs parse, Exact headers have values). */
export function compileClientSelectors(
  selectors: readonly ClientSelector[] | undefined,
  keying: ClientKeying = 'digest',
): ClientKeyFn {
  const headers: HeaderPart[] = [];
  const cidrs: CidrPart[] = [];
  for (const s of selectors ?? []) {
    for (const h of s.headers ?? []) {
      headers.push({ name: h.name.toLowerCase(), distinct: h.type === 'Distinct', value: h.value });
    }
    if (s.sourceCIDR)
      cidrs.push({ cidr: parseCidr(s.sourceCIDR.value)!, distinct: s.sourceCIDR.type === 'Distinct' });
  }
  if (headers.length === 0 && cidrs.length === 0) return () => '';
  const distinctHeaders = headers.some((h) => h.distinct);
  const verbatim = keying === 'verbatim';
  return (ctx) => {
    let headerKey = '';
    for (const h of headers) {
      const v = ctx.headers[h.name];
      if (v === undefined) return undefined;
      if (!h.distinct) {
        if (v !== h.value) return undefined;
      } else {
        headerKey += verbatim ? `${v.length}:${v}` : `${h.name}\u0000${v}\u0000`;
      }
    }
    let ipKey = '';
    if (cidrs.length > 0) {
      const ip: ParsedIp | undefined = parseIp(ctx.sourceIp);
      if (!ip) return undefined;
      for (const c of cidrs) {
        if (!cidrContains(c.cidr, ip)) return undefined;
        if (c.distinct && !ipKey) ipKey = canonicalIp(ip);
      }
    }
    if (verbatim) {
      const h = headerKey.length > MAX_VERBATIM ? `#${digest(headerKey)}` : headerKey;
      return ipKey ? `${h}@${ipKey}` : h;
    }
    const h = distinctHeaders ? digest(headerKey) : '';
    return ipKey && h ? `${h}|${ipKey}` : ipKey || h;
  };
}

function digest(text: string): string {
  return hash('sha256', text, 'base64url').slice(0, 22);
}
