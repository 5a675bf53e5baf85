// clientSelectors → a function from a request to the client part of a counter key, or undefined when the
// limit does not apply to that request. Every selector, and every part of a selector, must match.
// Exact parts only gate; Distinct parts also name the counter (one counter per distinct value).
import { hash } from 'node:crypto';
import type { ClientSelector } from '../../api/ratelimitpolicy.ts';
import type { RequestContext } from '../request-policy.ts';
import { canonicalIp, cidrContains, parseCidr, parseIp, type Cidr, type ParsedIp } from './cidr.ts';

/** '' when the limit has no Distinct part (one shared counter); undefined when it does not apply. */
export type ClientKeyFn = (ctx: RequestContext) => string | undefined;

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
export function compileClientSelectors(selectors: readonly ClientSelector[] | undefined): ClientKeyFn {
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
  return (ctx) => {
    let headerKey = '';
    for (const h of headers) {
      const v = ctx.headers[h.name];
      if (v === undefined) return undefined;
      if (!h.distinct) {
        if (v !== h.value) return undefined;
      } else {
        headerKey += `${h.name}\u0000${v}\u0000`;
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
    // Header values can be secrets (API keys) and arbitrarily long: counters are named by a digest, which
    // also keeps every key the same small size in memory and in Redis.
    const h = distinctHeaders ? hash('sha256', headerKey, 'base64url').slice(0, 22) : '';
    return ipKey && h ? `${h}|${ipKey}` : ipKey || h;
  };
}
