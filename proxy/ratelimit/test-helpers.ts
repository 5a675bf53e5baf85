// Builders for tests of the rate-limit engine (unit and e2e): policies, requests and attachment points.
import type { RateLimit, RateLimitPolicy } from '../../api/ratelimitpolicy.ts';
import type { TargetRef } from '../../api/common.ts';
import type { PolicyAttachmentPoint, RequestContext } from '../request-policy.ts';

export function rateLimitPolicy(options: {
  name?: string;
  namespace?: string;
  targetRefs?: Partial<TargetRef>[];
  limits: RateLimit[];
  creationTimestamp?: string;
  generation?: number;
}): RateLimitPolicy {
  return {
    apiVersion: 'tenantgate.io/v1alpha1',
    kind: 'RateLimitPolicy',
    metadata: {
      name: options.name ?? 'limits',
      namespace: options.namespace ?? 'team',
      ...(options.creationTimestamp ? { creationTimestamp: options.creationTimestamp } : {}),
      ...(options.generation !== undefined ? { generation: options.generation } : {}),
    },
    spec: {
      targetRefs: (options.targetRefs ?? [{ kind: 'HTTPRoute', name: 'api' }]).map((r) => ({
        group: 'gateway.networking.k8s.io',
        kind: 'HTTPRoute',
        name: 'api',
        ...r,
      })) as TargetRef[],
      limits: options.limits,
    },
  };
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
