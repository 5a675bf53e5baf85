// The `api-key` rule's keys: read from a Secret in the AccessPolicy's own namespace (never another one's),
// or given inline as SHA-256 digests. The proxy keeps only digests.
//
// Why the comparison happens here and not in Rego: the built-in rule tests `crypto.sha256(key) in
// parameters.sha256`, and Rego's `in` over an array compares strings with an early exit, so its timing
// depends on how much of a stored digest a guess shares. So the proxy compares the presented key's digest
// with every accepted digest using crypto.timingSafeEqual (all of them, no early exit) and hands the rule
// only the outcome: `sha256: [the presented key's digest]` when it matched, `sha256: []` when it did not.
// The rule still decides (missing header, reason, status), but never compares a guess with a secret.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Secret } from '../model/gateway-api.ts';
import { isObject, show } from '../policy-attachment/targets.ts';

export const API_KEY_RULE = 'api-key';
export const DEFAULT_API_KEY_HEADER = 'x-api-key';

const HEX_DIGEST = /^[0-9a-f]{64}$/;
const HEADER_TOKEN = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface ApiKeyConfig {
  /** lower-cased header name */
  header: string;
  /** SHA-256 digests of the accepted keys (32 bytes each), deduplicated */
  digests: readonly Buffer[];
  /** "ns/name" of the Secret read, for status and logs (never its data) */
  secret?: string;
}

/** Secrets by "namespace/name". */
export type SecretIndex = ReadonlyMap<string, Secret>;

export function indexSecrets(secrets: readonly Secret[]): SecretIndex {
  return new Map(secrets.map((s) => [`${s.metadata.namespace ?? 'default'}/${s.metadata.name}`, s]));
}

export function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * The api-key configuration of an AccessPolicy in `namespace`: parameters.secretRef {name, key?} names a
 * Secret of that namespace (each data entry, or only `key`, is one accepted key, surrounding whitespace
 * trimmed); parameters.sha256 lists digests inline. Problems name the field and the rule.
 */
export function resolveApiKeys(
  parameters: Record<string, unknown>,
  namespace: string,
  secrets: SecretIndex,
): { config?: ApiKeyConfig; problems: string[] } {
  const problems: string[] = [];
  const header = parameters.header ?? DEFAULT_API_KEY_HEADER;
  if (typeof header !== 'string' || !HEADER_TOKEN.test(header)) {
    problems.push(`spec.parameters.header: must be an HTTP header name (got ${show(header)})`);
  }
  const digests: Buffer[] = [];
  digests.push(...inlineDigests(parameters.sha256, problems));
  let secret: string | undefined;
  if (parameters.secretRef !== undefined) {
    const read = secretDigests(parameters.secretRef, namespace, secrets, problems);
    secret = read.secret;
    digests.push(...read.digests);
  }
  if (parameters.secretRef === undefined && parameters.sha256 === undefined) {
    problems.push('spec.parameters: rule api-key needs secretRef (a Secret in the same namespace) or sha256');
  } else if (problems.length === 0 && digests.length === 0) {
    problems.push('spec.parameters: rule api-key has no keys to accept');
  }
  if (problems.length > 0) return { problems };
  const unique = [...new Map(digests.map((d) => [d.toString('hex'), d])).values()];
  return { config: { header: (header as string).toLowerCase(), digests: unique, secret }, problems };
}

function inlineDigests(value: unknown, problems: string[]): Buffer[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    problems.push(`spec.parameters.sha256: must be a list of SHA-256 hex digests (got ${show(value)})`);
    return [];
  }
  const out: Buffer[] = [];
  value.forEach((d: unknown, i) => {
    if (typeof d === 'string' && HEX_DIGEST.test(d)) out.push(Buffer.from(d, 'hex'));
    else problems.push(`spec.parameters.sha256[${i}]: must be 64 lower-case hex digits (a SHA-256 digest)`);
  });
  return out;
}

function secretDigests(
  ref: unknown,
  namespace: string,
  secrets: SecretIndex,
  problems: string[],
): { digests: Buffer[]; secret?: string } {
  const at = 'spec.parameters.secretRef';
  const before = problems.length;
  if (!isObject(ref) || typeof ref.name !== 'string' || !DNS_SUBDOMAIN.test(ref.name)) {
    problems.push(`${at}.name: must name a Secret (a DNS subdomain) in namespace ${namespace}`);
    return { digests: [] };
  }
  // A policy reads Secrets of its own namespace only: naming another namespace is refused, never followed.
  if (ref.namespace !== undefined && ref.namespace !== namespace) {
    problems.push(
      `${at}.namespace: must be the policy's own namespace ${namespace} (got ${show(ref.namespace)}); an AccessPolicy cannot read another namespace's Secrets`,
    );
    return { digests: [] };
  }
  if (ref.key !== undefined && (typeof ref.key !== 'string' || ref.key === '')) {
    problems.push(`${at}.key: must be a non-empty string when set (got ${show(ref.key)})`);
    return { digests: [] };
  }
  const id = `${namespace}/${ref.name}`;
  const secret = secrets.get(id);
  if (!secret) {
    problems.push(`${at}: Secret ${id} not found`);
    return { digests: [] };
  }
  const entries = secretEntries(secret);
  const wanted = typeof ref.key === 'string' ? [ref.key] : [...entries.keys()];
  const digests: Buffer[] = [];
  for (const key of wanted) {
    const value = entries.get(key)?.trim();
    if (value === undefined) problems.push(`${at}.key: Secret ${id} has no key ${key}`);
    else if (value !== '') digests.push(sha256(value));
  }
  if (problems.length === before && digests.length === 0)
    problems.push(`${at}: Secret ${id} holds no API keys`);
  return { digests, secret: id };
}

/** data (base64) and stringData (plain; wins, as the API server merges it) of a Secret. */
function secretEntries(secret: Secret): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(secret.data ?? {}))
    out.set(k, Buffer.from(v, 'base64').toString('utf8'));
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out.set(k, v);
  return out;
}

/**
 * The digest (hex) of the presented key when it is one of the accepted keys, else undefined. Every
 * accepted digest is compared in constant time, whichever matches, so timing says nothing about them.
 */
export function matchApiKey(presented: string | undefined, digests: readonly Buffer[]): string | undefined {
  if (presented === undefined) return undefined;
  const digest = sha256(presented);
  let matched = 0;
  for (const d of digests) matched |= timingSafeEqual(d, digest) ? 1 : 0;
  return matched === 1 ? digest.toString('hex') : undefined;
}
