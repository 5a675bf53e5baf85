// Source-address matching for sourceCIDR selectors. Addresses are parsed to 32-bit words once per
// request and compared under the prefix mask; IPv4-mapped IPv6 (how a dual-stack socket reports an IPv4
// client, ::ffff:a.b.c.d) counts as IPv4, so "10.0.0.0/8" matches it.
import { isIPv4, isIPv6 } from 'node:net';

export interface ParsedIp {
  readonly family: 4 | 6;
  /** one word for IPv4, four for IPv6, most significant first */
  readonly words: readonly number[];
}

export interface Cidr extends ParsedIp {
  readonly prefix: number;
}

export function parseIp(text: string): ParsedIp | undefined {
  const v4 = fastIpv4(text);
  if (v4 !== undefined) return { family: 4, words: [v4] };
  const zone = text.indexOf('%');
  const ip = zone >= 0 ? text.slice(0, zone) : text;
  if (isIPv4(ip)) return { family: 4, words: [ipv4Word(ip)] };
  if (!isIPv6(ip)) return undefined;
  const words = ipv6Words(ip);
  const mapped = words[0] === 0 && words[1] === 0 && words[2] === 0xffff;
  return mapped ? { family: 4, words: [words[3]!] } : { family: 6, words };
}

export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const max = ip.family === 4 ? 32 : 128;
  // "::ffff:10.0.0.0/104" is IPv4 10.0.0.0/8 in disguise; keep the prefix consistent with the family.
  const mappedShift = ip.family === 4 && text.includes(':') ? 96 : 0;
  if (prefix - mappedShift < 0 || prefix - mappedShift > max) return undefined;
  return { ...ip, prefix: prefix - mappedShift };
}

export function cidrContains(cidr: Cidr, ip: ParsedIp): boolean {
  if (cidr.family !== ip.family) return false;
  let bits = cidr.prefix;
  for (let i = 0; i < cidr.words.length && bits > 0; i++, bits -= 32) {
    const mask = bits >= 32 ? 0xffffffff : ~(0xffffffff >>> bits) >>> 0;
    if ((cidr.words[i]! & mask) >>> 0 !== (ip.words[i]! & mask) >>> 0) return false;
  }
  return true;
}

/** A canonical text for an address, so that one client has one counter whatever its spelling. */
export function canonicalIp(ip: ParsedIp): string {
  if (ip.family === 4) {
    const w = ip.words[0]!;
    return `${w >>> 24}.${(w >>> 16) & 255}.${(w >>> 8) & 255}.${w & 255}`;
  }
  return ip.words.map((w) => w.toString(16).padStart(8, '0')).join('');
}

/** Dotted-quad IPv4 without regex or allocation (the common case, once per request); else undefined. */
function fastIpv4(text: string): number | undefined {
  let word = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined; // leading zero
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return undefined;
    } else if (c === 46 && digits > 0 && dots < 3) {
      word = word * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else return undefined;
  }
  return dots === 3 && digits > 0 ? word * 256 + part : undefined;
}

function ipv4Word(ip: string): number {
  const p = ip.split('.');
  return ((Number(p[0]) << 24) | (Number(p[1]) << 16) | (Number(p[2]) << 8) | Number(p[3])) >>> 0;
}

/** Expands an IPv6 text (already validated by isIPv6) to four 32-bit words. */
function ipv6Words(ip: string): number[] {
  let text = ip;
  const groups: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let v4: number | undefined;
  if (tail.includes('.')) {
    v4 = ipv4Word(tail);
    text = text.slice(0, lastColon + 1) + '0:0';
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest === undefined ? [] : rest ? rest.split(':') : [];
  const fill = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  for (const g of headGroups) groups.push(parseInt(g, 16));
  for (let i = 0; i < fill; i++) groups.push(0);
  for (const g of restGroups) groups.push(parseInt(g, 16));
  if (v4 !== undefined) {
    groups[6] = v4 >>> 16;
    groups[7] = v4 & 0xffff;
  }
  const words: number[] = [];
  for (let i = 0; i < 8; i += 2) words.push(((groups[i]! << 16) | groups[i + 1]!) >>> 0);
  return words;
}
