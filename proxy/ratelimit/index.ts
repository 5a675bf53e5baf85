// The rate-limit engine's public surface, for the proxy's wiring: build one store per process, then on
// every route-table compile turn the RateLimitPolicies into the attach hook, and compute their status.
export { compileRateLimitPolicies, counterScope } from './attach.ts';
export type { CompiledRateLimits, GatewayLimitScope, RateLimitCompileOptions } from './attach.ts';
export { createLocalStore, LocalStore, DEFAULT_LOCAL_MAX_KEYS } from './local-store.ts';
export type { LocalStoreOptions } from './local-store.ts';
export { createRedisStore, RedisStore, RedisStoreUnavailableError } from './redis-store.ts';
export type { FailMode, RedisStoreOptions } from './redis-store.ts';
export type { ConsumeResult, CounterCheck, RateLimitStore } from './store.ts';
export { RateLimitRequestPolicy } from './policy.ts';
export type { RateLimitHeaderOptions } from './policy.ts';
export { computeRateLimitPolicyStatus, RATE_LIMIT_AFFECTED } from './status.ts';
export type { RateLimitStatusInputs, RateLimitStatusResult, PolicyAncestorStatus } from './status.ts';
export { validateRateLimitPolicy } from './validate.ts';
export { governing, indexPolicies, policyId } from './precedence.ts';
export type { PolicyIndex } from './precedence.ts';
