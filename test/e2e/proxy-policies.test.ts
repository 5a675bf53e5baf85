// The AttachPolicies seam through the real proxy: policies returned for a rule run after matching and
// before filters and the upstream call; the first refusal answers with its status, reason and headers
// (the backend never sees the request); allowing verdicts' headers are added to the response.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRoute } from '../../proxy/model/builders.ts';
import type {
  PolicyAttachmentPoint,
  PolicyVerdict,
  RequestContext,
  RequestPolicy,
} from '../../proxy/request-policy.ts';
import {
  echoServices,
  freePort,
  localGateway,
  request,
  startEcho,
  startTestProxy,
  stopAll,
  type EchoBackend,
  type TestProxy,
} from './proxy-harness.ts';

const NS = 'policies';
let backend: EchoBackend;
let proxy: TestProxy;
let port: number;
const points: PolicyAttachmentPoint[] = [];
const seen: RequestContext[] = [];

const quota: RequestPolicy = {
  name: `${NS}/quota`,
  kind: 'RateLimitPolicy',
  evaluate(ctx): PolicyVerdict {
    seen.push(ctx);
    if (ctx.headers['x-over-quota'] === 'yes')
      return {
        allow: false,
        status: 429,
        reason: 'rate limit exceeded',
        headers: { 'Retry-After': '7', 'X-RateLimit-Remaining': '0' },
      };
    return { allow: true, headers: { 'X-RateLimit-Remaining': '41' } };
  },
};

const access: RequestPolicy = {
  name: `${NS}/internal-only`,
  kind: 'AccessPolicy',
  async evaluate(ctx) {
    await new Promise((r) => setTimeout(r, 5));
    return ctx.path.startsWith('/admin')
      ? { allow: false, status: 403, reason: 'forbidden by AccessPolicy internal-only' }
      : { allow: true };
  },
};

beforeAll(async () => {
  backend = await startEcho('backend');
  port = await freePort();
  proxy = await startTestProxy(
    [
      ...localGateway(NS, port),
      ...echoServices(NS, [backend]),
      httpRoute(NS, 'api', {
        parentRefs: [{ name: 'gw' }],
        rules: [
          {
            name: 'guarded',
            matches: [{ path: { type: 'PathPrefix', value: '/' } }],
            backendRefs: [{ name: 'backend', port: 80 }],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/open' } }],
            backendRefs: [{ name: 'backend', port: 80 }],
          },
        ],
      }),
    ],
    {
      attachPolicies: (point) => {
        points.push(point);
        return point.ruleName === 'guarded' ? [quota, access] : [];
      },
    },
  );
});

afterAll(() => stopAll(proxy, [backend]));

describe('attached policies', () => {
  it('the hook is asked per rule and listener', () => {
    expect(points).toContainEqual({
      gateway: { namespace: NS, name: 'gw' },
      listener: 'http',
      route: { kind: 'HTTPRoute', namespace: NS, name: 'api' },
      ruleIndex: 0,
      ruleName: 'guarded',
    });
    expect(points.some((p) => p.ruleIndex === 1)).toBe(true);
  });

  it('allowing verdicts add their headers and the request goes through', async () => {
    const res = await request(port, '/items?x=1', { host: 'api.example' });
    expect(res.status).toBe(200);
    expect(res.headers['x-ratelimit-remaining']).toBe('41');
    const ctx = seen.at(-1)!;
    expect(ctx).toMatchObject({
      method: 'GET',
      path: '/items',
      query: 'x=1',
      host: 'api.example',
      sourceIp: '127.0.0.1',
    });
    expect(ctx.route).toEqual({
      kind: 'HTTPRoute',
      namespace: NS,
      name: 'api',
      ruleIndex: 0,
      ruleName: 'guarded',
    });
    expect(ctx.gateway).toEqual({ namespace: NS, name: 'gw', listener: 'http' });
  });

  it('the first refusal answers with its status, reason and headers; the backend never sees it', async () => {
    const before = backend.received.length;
    const res = await request(port, '/items', { headers: { 'x-over-quota': 'yes' } });
    expect(res.status).toBe(429);
    expect(res.body.trim()).toBe('rate limit exceeded');
    expect(res.headers['retry-after']).toBe('7');
    expect(backend.received.length).toBe(before);
  });

  it('asynchronous policies refuse too', async () => {
    const res = await request(port, '/admin/users');
    expect(res.status).toBe(403);
    expect(res.body.trim()).toBe('forbidden by AccessPolicy internal-only');
  });

  it('rules without policies are not evaluated', async () => {
    const count = seen.length;
    expect((await request(port, '/open', { headers: { 'x-over-quota': 'yes' } })).status).toBe(200);
    expect(seen.length).toBe(count);
  });
});
