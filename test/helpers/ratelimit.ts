// Builders for tests and benchmarks of the rate-limit engine: policies, requests and attachment points.
import type { RateLimit, RateLimitPolicy } from '../../api/ratelimitpolicy.ts';
import { policyObject, type PolicyObjectOptions } from './policy-attachment.ts';
import type { PolicyAttachmentPoint, RequestContext } from '../../proxy/request-policy.ts';

export function rateLimitPolicy(options: PolicyObjectOptions & { limits: RateLimit[] }): RateLimitPolicy {
  return policyObject(
    { ...options, kind: 'RateLimitPolicy', defaultName: 'limits' },
    { limits: options.limits },
  );
}

export function request(overrides: Partial<RequestContext> = {}): RequestContext {
  return {
    method: 'GET',
    path: '/',
    query: '',
    host: 'api.example.com',
    headers: {},
    sourceIp: '10.1.2.3',
    gateway: { namespace: 'infra', name: 'shared', listener: 'http' },
    route: { kind: 'HTTPRoute', namespace: 'team', name: 'api', ruleIndex: 0 },
    ...overrides,
  };
}

export function point(overrides: {
  gateway?: string;
  listener?: string;
  route?: string;
  routeNamespace?: string;
  kind?: 'HTTPRoute' | 'GRPCRoute';
  ruleIndex?: number;
  ruleName?: string;
}): PolicyAttachmentPoint {
  return {
    gateway: { namespace: 'infra', name: overrides.gateway ?? 'shared' },
    listener: overrides.listener ?? 'http',
    route: {
      kind: overrides.kind ?? 'HTTPRoute',
      namespace: overrides.routeNamespace ?? 'team',
      name: overrides.route ?? 'api',
    },
    ruleIndex: overrides.ruleIndex ?? 0,
    ...(overrides.ruleName ? { ruleName: overrides.ruleName } : {}),
  };
}
