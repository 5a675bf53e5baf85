import { describe, expect, it } from 'vitest';
import { PolicySettingError, resolvePolicySettings } from './policy-settings.ts';

describe('resolvePolicySettings', () => {
  it('defaults to in-process counters, fail open, headers on, per-route Gateway limits', () => {
    expect(resolvePolicySettings({}, {})).toEqual({
      rateLimitRedis: undefined,
      rateLimitFailMode: 'open',
      rateLimitHeaders: true,
      gatewayLimitScope: 'PerRoute',
      localMaxKeys: undefined,
      policyConfigPath: undefined,
    });
  });

  it('reads the environment when an option is not given', () => {
    const env = {
      TENANTGATE_RATE_LIMIT_REDIS: 'redis://:secret@redis.infra:6379/2',
      TENANTGATE_RATE_LIMIT_FAIL_MODE: 'closed',
      TENANTGATE_RATE_LIMIT_REDIS_TIMEOUT_MS: '1500',
      TENANTGATE_RATE_LIMIT_HEADERS: 'false',
      TENANTGATE_GATEWAY_LIMIT_SCOPE: 'shared',
      TENANTGATE_RATE_LIMIT_LOCAL_MAX_KEYS: '5000',
      TENANTGATE_POLICY_CONFIG: '/etc/tenantgate/policies.yaml',
    };
    expect(resolvePolicySettings({}, env)).toEqual({
      rateLimitRedis: 'redis://:secret@redis.infra:6379/2',
      rateLimitFailMode: 'closed',
      rateLimitRedisTimeoutMs: 1500,
      rateLimitHeaders: false,
      gatewayLimitScope: 'Shared',
      localMaxKeys: 5000,
      policyConfigPath: '/etc/tenantgate/policies.yaml',
    });
  });

  it('prefers options to the environment, and treats an empty variable as unset', () => {
    const env = { TENANTGATE_RATE_LIMIT_FAIL_MODE: 'closed', TENANTGATE_RATE_LIMIT_REDIS: '' };
    const s = resolvePolicySettings({ rateLimitFailMode: 'open', rateLimitHeaders: false }, env);
    expect(s.rateLimitFailMode).toBe('open');
    expect(s.rateLimitHeaders).toBe(false);
    expect(s.rateLimitRedis).toBeUndefined();
  });

  it('names the variable or option and the rule when a value is wrong', () => {
    const bad =
      (env: Record<string, string>, options = {}) =>
      () =>
        resolvePolicySettings(options, env);
    expect(bad({ TENANTGATE_RATE_LIMIT_FAIL_MODE: 'maybe' })).toThrow(
      /TENANTGATE_RATE_LIMIT_FAIL_MODE: 'maybe' must be open or closed/,
    );
    expect(bad({ TENANTGATE_RATE_LIMIT_REDIS: 'localhost:6379' })).toThrow(
      /TENANTGATE_RATE_LIMIT_REDIS: 'localhost:6379' is not a redis:\/\/ or rediss:\/\/ URL/,
    );
    expect(bad({ TENANTGATE_RATE_LIMIT_HEADERS: 'nope' })).toThrow(/must be true or false/);
    expect(bad({ TENANTGATE_GATEWAY_LIMIT_SCOPE: 'PerRoute' })).toThrow(/must be per-route or shared/);
    expect(bad({ TENANTGATE_RATE_LIMIT_LOCAL_MAX_KEYS: '1' })).toThrow(/must be an integer of at least 2/);
    expect(bad({ TENANTGATE_RATE_LIMIT_REDIS_TIMEOUT_MS: '2s' })).toThrow(
      /TENANTGATE_RATE_LIMIT_REDIS_TIMEOUT_MS: '2s' must be an integer of at least 2/,
    );
    expect(bad({}, { gatewayLimitScope: 'global' })).toThrow(/option gatewayLimitScope/);
    expect(bad({ TENANTGATE_RATE_LIMIT_FAIL_MODE: 'x' })).toThrow(PolicySettingError);
  });
});
