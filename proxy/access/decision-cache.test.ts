import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyEngine } from '../../policies/engine.ts';
import { buildBundle } from '../../test/helpers/policies.ts';
import type { RequestContext, RequestPolicy } from '../request-policy.ts';
import { compileAccessPolicies } from './attach.ts';
import { DecisionCache } from './decision-cache.ts';
import { decisionKey, MAX_KEY_LENGTH } from './decision-key.ts';
import { cacheTally } from './metrics.ts';
import { accessPolicy, builtinEngine, namespace, point, request, secret } from '../../test/helpers/access.ts';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await builtinEngine();
});

// Small alphabets, so that requests repeat (the cache answers) and differ in one field at a time.
const ips = ['10.1.2.3', '10.1.2.4', '::ffff:10.1.2.3', '172.16.0.1', '192.168.1.9', 'fd00::1', '1.1.1.1'];
const methods = ['GET', 'get', 'HEAD', 'POST', 'DELETE', 'Get'];
const tenants = [undefined, 'acme', 'Acme', 'other', ''];
const ids = [undefined, '12', '012', 'x12', '', '1:2'];
const keys = [undefined, 'key-a', 'key-b', 'key-c', '', 'key-a '];
const routes = ['api', 'web'];

const requestArb = fc
  .record({
    route: fc.constantFrom(...routes),
    sourceIp: fc.constantFrom(...ips),
    method: fc.constantFrom(...methods),
    tenant: fc.constantFrom(...tenants),
    id: fc.constantFrom(...ids),
    key: fc.constantFrom(...keys),
  })
  .map(({ route, sourceIp, method, tenant, id, key }) => {
    const headers: Record<string, string> = { 'x-request-id': String(Math.random()) };
    if (tenant !== undefined) headers['x-tenant'] = tenant;
    if (id !== undefined) headers['x-id'] = id;
    if (key !== undefined) headers['x-api-key'] = key;
    return { route, ctx: request({ method, sourceIp, headers }) };
  });

const POLICIES = [
  {
    name: 'cidrs',
    rule: 'allow-cidrs',
    parameters: { cidrs: ['10.1.2.3/32', '192.168.1.0/24', 'fd00::/8'] },
  },
  { name: 'methods', rule: 'methods', parameters: { methods: ['GET', 'HEAD'] } },
  {
    name: 'headers',
    rule: 'require-headers',
    parameters: {
      headers: [
        { name: 'X-Tenant', value: 'acme' },
        { name: 'X-Id', pattern: '^[0-9]+$' },
      ],
    },
  },
  { name: 'keys', rule: 'api-key', parameters: { secretRef: { name: 'keys' } } },
];

function compile(maxCachedDecisions?: number) {
  return compileAccessPolicies(
    // each policy governs two routes of its own (one policy governs a point), sharing one cache
    POLICIES.map((p) =>
      accessPolicy({
        name: p.name,
        targetRefs: routes.map((r) => ({ name: `${p.name}-${r}` })),
        rule: p.rule,
        parameters: p.parameters,
      }),
    ),
    {
      engine,
      secrets: [secret('team', 'keys', { a: 'key-a', b: 'key-b' })],
      namespaces: [namespace('team', 'acme')],
      ...(maxCachedDecisions !== undefined ? { maxCachedDecisions } : {}),
    },
  );
}

/** Every policy's verdict for one request, in order. */
function verdicts(policies: readonly RequestPolicy[], ctx: RequestContext) {
  return policies.map((p) => p.evaluate(ctx));
}

describe('AccessPolicy decision cache', () => {
  it('never answers a request with a decision made for a different input (property)', () => {
    const cached = compile();
    const uncached = compile(0);
    expect(cached.index.invalid.size).toBe(0);
    const before = POLICIES.map((p) => ({ ...cacheTally(`team/${p.name}`) }));
    fc.assert(
      fc.property(fc.array(requestArb, { minLength: 1, maxLength: 40 }), (requests) => {
        for (const { route, ctx } of requests) {
          for (const p of POLICIES) {
            const at = point({ route: `${p.name}-${route}` });
            expect(cached.attach(at)).toHaveLength(1);
            expect(verdicts(cached.attach(at), ctx), p.name).toEqual(verdicts(uncached.attach(at), ctx));
          }
        }
      }),
      { numRuns: 300 },
    );
    // the cache did answer (else the property says nothing), and only as often as inputs repeat
    POLICIES.forEach((p, i) => {
      const t = cacheTally(`team/${p.name}`);
      expect(t.hit - before[i]!.hit, p.name).toBeGreaterThan(0);
      expect(t.miss - before[i]!.miss, p.name).toBeGreaterThan(0);
    });
  });

  it('keeps at most its bound, and does not cache inputs longer than the key limit', () => {
    const cache = new DecisionCache({
      engine,
      rule: 'allow-cidrs',
      parameters: { cidrs: ['10.0.0.0/8'] },
      policy: 'team/bounded',
      max: 64,
    });
    const keyFn = cache.keyFn()!;
    const about = {
      route: { kind: 'HTTPRoute', namespace: 'team', name: 'api' },
      tenant: undefined,
      host: 'h',
    };
    for (let i = 0; i < 1_000; i++) {
      const key = keyFn(request({ sourceIp: `10.0.${i >> 8}.${i & 255}` }), about)!;
      if (!cache.get(key)) cache.set(key, { allow: true, status: 200, reason: '' });
      expect(cache.size).toBeLessThanOrEqual(64);
    }
    const headers = decisionKey({ fields: [], headers: ['x-tenant'] });
    expect(headers(request({ headers: { 'x-tenant': 'a'.repeat(MAX_KEY_LENGTH) } }), about)).toBeUndefined();
    expect(headers(request({ headers: { 'x-tenant': 'a'.repeat(100) } }), about)).toBe(
      `100:${'a'.repeat(100)}`,
    );
  });

  it('forgets its decisions when a bundle is replaced, and never caches a rule that declares no reads', async () => {
    const module = (allow: boolean, reads: boolean) => ({
      'flag.rego': `package team.flag
${reads ? 'reads := {"fields": ["method"], "headers": []}\n' : ''}decision := {"allow": ${allow}, "status": ${allow ? 200 : 403}, "reason": "v-${allow}"}
`,
      'catalog.rego': `package tenantgate.access
catalog := {"team-flag": {"entrypoint": "team/flag/decision", ${reads ? '"reads": "team/flag/reads", ' : ''}"description": "", "schema": {"type": "object"}}}
`,
    });
    const entrypoints = (reads: boolean) => [
      'tenantgate/access/catalog',
      'team/flag/decision',
      ...(reads ? ['team/flag/reads'] : []),
    ];
    const own = await builtinEngine();
    await own.setBundle('team', buildBundle(module(true, true), entrypoints(true)));
    const compiled = () =>
      compileAccessPolicies(
        [accessPolicy({ name: 'flag', targetRefs: [{ name: 'api' }], rule: 'team-flag' })],
        {
          engine: own,
          secrets: [],
          namespaces: [],
        },
      ).attach(point({}))[0]!;
    const policy = compiled();
    const tally = cacheTally('team/flag');
    const hits = tally.hit;
    expect(policy.evaluate(request())).toEqual({ allow: true });
    expect(policy.evaluate(request())).toEqual({ allow: true });
    expect(tally.hit).toBe(hits + 1);

    // the same compiled policy (no recompile: a bundle that changes behaviour only needs none)
    await own.setBundle('team', buildBundle(module(false, true), entrypoints(true)));
    expect(policy.evaluate(request())).toMatchObject({
      allow: false,
      status: 403,
      reason: 'v-false (AccessPolicy team/flag)',
    });

    await own.setBundle('team', buildBundle(module(true, false), entrypoints(false)));
    const uncached = tally.uncached;
    const hitsBefore = tally.hit;
    for (let i = 0; i < 5; i++) expect(compiled().evaluate(request())).toEqual({ allow: true });
    expect(tally.uncached).toBe(uncached + 5);
    expect(tally.hit).toBe(hitsBefore);
  });
});

describe('decision keys', () => {
  const about = { route: { kind: 'HTTPRoute', namespace: 'team', name: 'api' }, tenant: 'acme', host: 'h' };

  it('differ whenever a declared field or header differs, missing and empty included (property)', () => {
    const key = decisionKey({ fields: ['method', 'path', 'source_ip'], headers: ['a', 'b'] });
    const value = fc.option(fc.string({ unit: fc.constantFrom('1', ':', '-', 'a', '0', '\u0000') }), {
      nil: undefined,
    });
    const input = fc.record({
      method: fc.string({ maxLength: 3 }),
      path: fc.string({ maxLength: 3 }),
      ip: fc.string({ maxLength: 3 }),
      a: value,
      b: value,
    });
    const ctx = (i: { method: string; path: string; ip: string; a?: string; b?: string }) => {
      const headers: Record<string, string> = {};
      if (i.a !== undefined) headers.a = i.a;
      if (i.b !== undefined) headers.b = i.b;
      return request({ method: i.method, path: i.path, sourceIp: i.ip, headers });
    };
    fc.assert(
      fc.property(input, input, (x, y) => {
        const same =
          x.method === y.method && x.path === y.path && x.ip === y.ip && x.a === y.a && x.b === y.b;
        expect(key(ctx(x), about) === key(ctx(y), about)).toBe(same);
      }),
      { numRuns: 2_000 },
    );
  });

  it('say when the client address alone is the key (allow-cidrs), so it is used as it is', () => {
    expect(decisionKey({ fields: ['source_ip'], headers: [] }).sourceIpOnly).toBe(true);
    expect(decisionKey({ fields: ['source_ip', 'method'], headers: [] }).sourceIpOnly).toBe(false);
    expect(decisionKey({ fields: ['source_ip'], headers: ['x-a'] }).sourceIpOnly).toBe(false);
    expect(decisionKey({ fields: ['method'], headers: [] }).sourceIpOnly).toBe(false);
  });

  it('hold the outcome of the api-key comparison, never the presented key', () => {
    const key = decisionKey({ fields: [], headers: ['x-api-key'] });
    const ctx = request({ headers: { 'x-api-key': 'the-presented-secret' } });
    const matched = key(ctx, { ...about, apiKey: { header: 'x-api-key', outcome: 'ab'.repeat(32) } })!;
    const unmatched = key(ctx, { ...about, apiKey: { header: 'x-api-key', outcome: '' } })!;
    const absent = key(request(), { ...about, apiKey: { header: 'x-api-key', outcome: undefined } })!;
    for (const k of [matched, unmatched, absent]) expect(k).not.toContain('the-presented-secret');
    expect(new Set([matched, unmatched, absent]).size).toBe(3);
  });
});
