import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyEngine } from '../../policies/engine.ts';
import type { AccessInput } from '../../policies/types.ts';
import type { PolicyVerdict, RequestPolicy } from '../request-policy.ts';
import { sha256 } from './api-key.ts';
import { compileAccessPolicies } from './attach.ts';
import type { AccessEngine } from './engine.ts';
import { accessPolicy, builtinEngine, namespace, point, request, secret } from '../../test/helpers/access.ts';

let engine: PolicyEngine;
beforeAll(async () => {
  engine = await builtinEngine();
});

/** The real engine, remembering the inputs it was given. */
function recording(): { engine: AccessEngine; inputs: AccessInput[] } {
  const inputs: AccessInput[] = [];
  return {
    inputs,
    engine: {
      evaluateAccess: (rule, input) => {
        inputs.push(structuredClone(input));
        return engine.evaluateAccess(rule, input);
      },
      accessRules: () => engine.accessRules(),
      evaluateAdmission: (req) => engine.evaluateAdmission(req),
      bundles: () => engine.bundles(),
      // every request reaches the rule (and is recorded): no rule declares its reads here
      generation: 0,
      accessReads: () => undefined,
    },
  };
}

const compile = (
  policies: Parameters<typeof compileAccessPolicies>[0],
  extra: Partial<Parameters<typeof compileAccessPolicies>[1]> = {},
) => compileAccessPolicies(policies, { engine, secrets: [], namespaces: [], ...extra });

const names = (list: readonly RequestPolicy[]) => list.map((p) => p.name);
const verdict = (list: readonly RequestPolicy[], ctx = request()) => list[0]!.evaluate(ctx) as PolicyVerdict;
const methods = (m: string[]) => ({ methods: m });

describe('compileAccessPolicies', () => {
  it('lets the most specific target govern: rule > route > listener > gateway', () => {
    const { attach } = compile([
      accessPolicy({
        name: 'gw',
        namespace: 'infra',
        targetRefs: [{ kind: 'Gateway', name: 'shared' }],
        rule: 'methods',
        parameters: methods(['GET']),
      }),
      accessPolicy({
        name: 'listener',
        namespace: 'infra',
        targetRefs: [{ kind: 'Gateway', name: 'shared', sectionName: 'https' }],
        rule: 'methods',
        parameters: methods(['GET']),
      }),
      accessPolicy({
        name: 'route',
        targetRefs: [{ name: 'api' }],
        rule: 'methods',
        parameters: methods(['GET']),
      }),
      accessPolicy({
        name: 'rule',
        targetRefs: [{ name: 'api', sectionName: 'login' }],
        rule: 'methods',
        parameters: methods(['POST']),
      }),
    ]);
    expect(names(attach(point({ route: 'api', ruleName: 'login' })))).toEqual(['team/rule']);
    expect(names(attach(point({ route: 'api', ruleIndex: 1 })))).toEqual(['team/route']);
    expect(names(attach(point({ route: 'web', listener: 'https' })))).toEqual(['infra/listener']);
    expect(names(attach(point({ route: 'web', listener: 'http' })))).toEqual(['infra/gw']);
    expect(attach(point({ route: 'web', gateway: 'elsewhere' }))).toEqual([]);
  });

  it('tells a GRPCRoute from an HTTPRoute of the same name', () => {
    const { attach } = compile([
      accessPolicy({
        name: 'grpc',
        targetRefs: [{ kind: 'GRPCRoute', name: 'api' }],
        rule: 'methods',
        parameters: methods(['POST']),
      }),
    ]);
    expect(names(attach(point({ kind: 'GRPCRoute' })))).toEqual(['team/grpc']);
    expect(attach(point({ kind: 'HTTPRoute' }))).toEqual([]);
  });

  it('resolves two policies on one target in favour of the older one', () => {
    const { attach, index } = compile([
      accessPolicy({
        name: 'newer',
        rule: 'methods',
        parameters: methods(['GET']),
        creationTimestamp: '2025-02-01T00:00:00Z',
      }),
      accessPolicy({
        name: 'older',
        rule: 'methods',
        parameters: methods(['POST']),
        creationTimestamp: '2025-01-01T00:00:00Z',
      }),
    ]);
    expect(names(attach(point({})))).toEqual(['team/older']);
    expect(index.conflicts.get('team/newer')).toEqual([{ targetIndex: 0, winner: 'team/older' }]);
  });

  it('allows and refuses through the engine, with status 403 and a reason naming the policy', () => {
    const [policy] = compile([
      accessPolicy({ name: 'ro', rule: 'methods', parameters: methods(['GET', 'HEAD']) }),
    ]).attach(point({}));
    expect(verdict([policy!], request({ method: 'GET' }))).toEqual({ allow: true });
    expect(verdict([policy!], request({ method: 'DELETE' }))).toEqual({
      allow: false,
      status: 403,
      reason: 'method DELETE is not allowed on this route (AccessPolicy team/ro)',
    });
  });

  it('makes an invalid policy govern its targets and refuse with 500 (fail closed), over a valid Gateway policy', () => {
    const { attach, index } = compile([
      accessPolicy({
        name: 'gw',
        namespace: 'infra',
        targetRefs: [{ kind: 'Gateway', name: 'shared' }],
        rule: 'methods',
        parameters: methods(['GET']),
      }),
      accessPolicy({ name: 'typo', rule: 'allow-cidr', parameters: { cidrs: ['10.0.0.0/8'] } }),
    ]);
    expect(index.invalid.get('team/typo')).toEqual([
      "spec.rule: 'allow-cidr' is not a data-path rule of any loaded policy bundle (loaded: allow-cidrs, api-key, methods, require-headers)",
    ]);
    expect(verdict(attach(point({})))).toEqual({
      allow: false,
      status: 500,
      reason: 'AccessPolicy team/typo is invalid; see its status',
    });
    expect(names(attach(point({ route: 'web' })))).toEqual(['infra/gw']);
  });

  it("checks parameters against the rule's schema with the admission policy", () => {
    const { index } = compile([
      accessPolicy({ name: 'bad-cidr', rule: 'allow-cidrs', parameters: { cidrs: ['10.0.0.0/33'] } }),
      accessPolicy({ name: 'no-params', targetRefs: [{ name: 'web' }], rule: 'methods' }),
      accessPolicy({
        name: 'fine',
        targetRefs: [{ name: 'other' }],
        rule: 'allow-cidrs',
        parameters: { cidrs: ['10.0.0.0/8'] },
      }),
    ]);
    expect(index.invalid.get('team/bad-cidr')![0]).toMatch(
      /^spec\.parameters\.cidrs\[0\] is '10\.0\.0\.0\/33', not a CIDR/,
    );
    expect(index.invalid.get('team/no-params')![0]).toMatch(/spec\.parameters.*methods/);
    expect(index.invalid.has('team/fine')).toBe(false);
  });

  it('gives the rule the request, the route, the tenant of its namespace and the parameters', () => {
    const rec = recording();
    const { attach } = compile([accessPolicy({ rule: 'methods', parameters: methods(['GET']) })], {
      engine: rec.engine,
      namespaces: [namespace('team', 'acme'), namespace('other')],
    });
    attach(point({}))[0]!.evaluate(
      request({
        method: 'GET',
        path: '/v1/x',
        host: 'API.example.com:10080',
        headers: { accept: '*/*' },
        sourceIp: '10.9.8.7',
      }),
    );
    expect(rec.inputs).toEqual([
      {
        method: 'GET',
        path: '/v1/x',
        host: 'api.example.com',
        headers: { accept: '*/*' },
        source_ip: '10.9.8.7',
        route: { kind: 'HTTPRoute', namespace: 'team', name: 'api' },
        tenant: 'acme',
        parameters: { methods: ['GET'] },
      },
    ]);
  });

  it('hands the api-key rule the comparison outcome only, never the stored digests', () => {
    const rec = recording();
    const { attach, index } = compile(
      [accessPolicy({ rule: 'api-key', parameters: { secretRef: { name: 'keys' } } })],
      { engine: rec.engine, secrets: [secret('team', 'keys', { a: 'key-a', b: 'key-b' })] },
    );
    expect(index.invalid.size).toBe(0);
    const [policy] = attach(point({}));
    const results = ['key-b', 'wrong', undefined].map((key) =>
      policy!.evaluate(request({ headers: key === undefined ? {} : { 'x-api-key': key } })),
    );
    expect(results.map((r) => (r as PolicyVerdict).allow)).toEqual([true, false, false]);
    expect((results[1] as { reason: string }).reason).toBe('API key not accepted (AccessPolicy team/access)');
    expect((results[2] as { reason: string }).reason).toBe('missing API key (AccessPolicy team/access)');
    expect(rec.inputs.map((i) => i.parameters)).toEqual([
      { header: 'x-api-key', sha256: [sha256('key-b').toString('hex')] },
      { header: 'x-api-key', sha256: [] },
      { header: 'x-api-key', sha256: [] },
    ]);
  });

  it("refuses (500) on a route whose api-key policy names another namespace's Secret", () => {
    const { attach, index } = compile(
      [accessPolicy({ rule: 'api-key', parameters: { secretRef: { name: 'keys', namespace: 'victim' } } })],
      { secrets: [secret('victim', 'keys', { a: 'victim-key' })] },
    );
    expect(index.invalid.get('team/access')![0]).toMatch(/cannot read another namespace's Secrets/);
    expect(verdict(attach(point({})), request({ headers: { 'x-api-key': 'victim-key' } }))).toMatchObject({
      allow: false,
      status: 500,
    });
  });

  it('hands out one instance per (policy, route): cheap for every rule, per-route input', () => {
    const { attach } = compile([
      accessPolicy({
        namespace: 'infra',
        targetRefs: [{ kind: 'Gateway', name: 'shared' }],
        rule: 'methods',
        parameters: methods(['GET']),
      }),
    ]);
    expect(attach(point({ ruleIndex: 0 }))).toBe(attach(point({ ruleIndex: 1, listener: 'https' })));
    expect(attach(point({ route: 'a' }))).not.toBe(attach(point({ route: 'b' })));
  });

  it('refuses with 500 when the rule is gone at evaluation time (bundle removed since the compile)', () => {
    const gone: AccessEngine = {
      ...recording().engine,
      evaluateAccess: () => {
        throw new Error("no loaded policy bundle provides data-path rule 'methods'");
      },
    };
    const [policy] = compile([accessPolicy({ rule: 'methods', parameters: methods(['GET']) })], {
      engine: gone,
    }).attach(point({}));
    expect(policy!.evaluate(request())).toEqual({
      allow: false,
      status: 500,
      reason: "access rule 'methods' is not available",
    });
  });
});
