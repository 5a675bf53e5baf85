// How the proxy runs attached policies: where rate-limit counters live, what happens when Redis cannot
// answer, which response headers a limit adds, how Gateway-level limits count, and which policy bundles
// the access rules come from. Each setting is a startProxy option, else an environment variable (so that
// `tenantgate run` can set them without flags of its own), else the default.
//
//   option               environment                          default
//   rateLimitRedis       TENANTGATE_RATE_LIMIT_REDIS          (unset: in-process counters)
//   rateLimitFailMode    TENANTGATE_RATE_LIMIT_FAIL_MODE      open
//   rateLimitRedisTimeoutMs TENANTGATE_RATE_LIMIT_REDIS_TIMEOUT_MS 250
//   rateLimitHeaders     TENANTGATE_RATE_LIMIT_HEADERS        true
//   gatewayLimitScope    TENANTGATE_GATEWAY_LIMIT_SCOPE       per-route
//   localMaxKeys         TENANTGATE_RATE_LIMIT_LOCAL_MAX_KEYS 100000
//   policyConfigPath     TENANTGATE_POLICY_CONFIG             (unset: the built-in bundle only)
import { defineError } from '../lib/errors.ts';
import type { PolicyEngine } from '../policies/engine.ts';
import type { GatewayLimitScope } from './ratelimit/attach.ts';
import type { FailMode } from './ratelimit/redis-store.ts';
import type { RateLimitStore } from './ratelimit/store.ts';

export const PolicySettingError = defineError('TG_PROXY_POLICY_SETTING', 'proxy policy setting %s: %s');

export const POLICY_ENV = {
  rateLimitRedis: 'TENANTGATE_RATE_LIMIT_REDIS',
  rateLimitFailMode: 'TENANTGATE_RATE_LIMIT_FAIL_MODE',
  rateLimitRedisTimeoutMs: 'TENANTGATE_RATE_LIMIT_REDIS_TIMEOUT_MS',
  rateLimitHeaders: 'TENANTGATE_RATE_LIMIT_HEADERS',
  gatewayLimitScope: 'TENANTGATE_GATEWAY_LIMIT_SCOPE',
  localMaxKeys: 'TENANTGATE_RATE_LIMIT_LOCAL_MAX_KEYS',
  policyConfigPath: 'TENANTGATE_POLICY_CONFIG',
} as const;

export type GatewayLimitScopeName = 'per-route' | 'shared';

/** `startProxy({ policies })`. Every field is optional; see the table above for defaults. */
export interface ProxyPolicyOptions {
  /** redis://[user:pass@]host:port[/db]: counters shared by every proxy replica */
  rateLimitRedis?: string;
  /** when Redis cannot answer: 'open' allows (counted, logged), 'closed' refuses with 503 */
  rateLimitFailMode?: FailMode;
  /** how long a Redis command may take before the fail mode answers (default 250 ms) */
  rateLimitRedisTimeoutMs?: number;
  /** X-RateLimit-Limit/-Remaining/-Reset on responses (Retry-After is always sent with a 429) */
  rateLimitHeaders?: boolean;
  /** Gateway-level limits: one set of counters per route ('per-route') or one for all its routes */
  gatewayLimitScope?: GatewayLimitScopeName;
  /** cap on in-process counters (bounded memory under a flood of distinct keys) */
  localMaxKeys?: number;
  /** the platform team's policy configuration (custom bundles, hot-reloaded) */
  policyConfigPath?: string;
  /** use this store instead of building one (not closed by the proxy) */
  rateLimitStore?: RateLimitStore;
  /** share a process's policy engine instead of loading one (its bundles are then its owner's to load) */
  engine?: PolicyEngine;
}

export interface PolicySettings {
  rateLimitRedis: string | undefined;
  rateLimitFailMode: FailMode;
  rateLimitRedisTimeoutMs: number | undefined;
  rateLimitHeaders: boolean;
  gatewayLimitScope: GatewayLimitScope;
  localMaxKeys: number | undefined;
  policyConfigPath: string | undefined;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Options first, then the environment, then defaults; a bad value names the option or variable. */
export function resolvePolicySettings(
  options: ProxyPolicyOptions = {},
  env: Env = process.env,
): PolicySettings {
  const pick = <K extends keyof typeof POLICY_ENV>(key: K): { value: unknown; from: string } => {
    const given = options[key];
    if (given !== undefined) return { value: given, from: `option ${key}` };
    const raw = env[POLICY_ENV[key]];
    return { value: raw === '' ? undefined : raw, from: POLICY_ENV[key] };
  };
  return {
    rateLimitRedis: redisUrl(pick('rateLimitRedis')),
    rateLimitFailMode: failMode(pick('rateLimitFailMode')),
    rateLimitRedisTimeoutMs: positiveInteger(pick('rateLimitRedisTimeoutMs')),
    rateLimitHeaders: boolean(pick('rateLimitHeaders'), true),
    gatewayLimitScope: scope(pick('gatewayLimitScope')),
    localMaxKeys: positiveInteger(pick('localMaxKeys')),
    policyConfigPath: optionalString(pick('policyConfigPath')),
  };
}

function redisUrl({ value, from }: { value: unknown; from: string }): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^rediss?:\/\/[^/\s]+/.test(value))
    throw new PolicySettingError([from, `'${String(value)}' is not a redis:// or rediss:// URL`]);
  return value;
}

export function parseFailMode(value: unknown): FailMode | undefined {
  return value === 'open' || value === 'closed' ? value : undefined;
}

function failMode({ value, from }: { value: unknown; from: string }): FailMode {
  if (value === undefined) return 'open';
  const mode = parseFailMode(value);
  if (!mode) throw new PolicySettingError([from, `'${String(value)}' must be open or closed`]);
  return mode;
}

/** true/false, also on/off, yes/no, 1/0 (environment variables are strings). */
export function parseBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return undefined;
  const v = value.toLowerCase();
  if (['true', 'on', 'yes', '1'].includes(v)) return true;
  if (['false', 'off', 'no', '0'].includes(v)) return false;
  return undefined;
}

function boolean({ value, from }: { value: unknown; from: string }, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  const b = parseBoolean(value);
  if (b === undefined) throw new PolicySettingError([from, `'${String(value)}' must be true or false`]);
  return b;
}

export function parseGatewayLimitScope(value: unknown): GatewayLimitScope | undefined {
  return value === 'per-route' ? 'PerRoute' : value === 'shared' ? 'Shared' : undefined;
}

function scope({ value, from }: { value: unknown; from: string }): GatewayLimitScope {
  if (value === undefined) return 'PerRoute';
  const s = parseGatewayLimitScope(value);
  if (!s) throw new PolicySettingError([from, `'${String(value)}' must be per-route or shared`]);
  return s;
}

function positiveInteger({ value, from }: { value: unknown; from: string }): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < 2)
    throw new PolicySettingError([from, `'${String(value)}' must be an integer of at least 2`]);
  return n;
}

function optionalString({ value, from }: { value: unknown; from: string }): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new PolicySettingError([from, 'must be a path']);
  return value;
}
