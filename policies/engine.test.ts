import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_ERROR_POLICY, PolicyEngine, UnknownAccessRuleError } from './engine.ts';
import {
  buildBundle,
  builtinBundleBytes,
  goodRouteSpec as goodRoute,
  inventory as loadInventory,
} from '../test/helpers/policies.ts';
import type { AccessInput, AdmissionRequest } from './types.ts';

const inventory = loadInventory();

function routeCreate(spec: Record<string, unknown>, namespace = 'acme-web'): AdmissionRequest {
  return {
    uid: 'uid-1',
    kind: { group: 'gateway.networking.k8s.io', version: 'v1', kind: 'HTTPRoute' },
    operation: 'CREATE',
    namespace,
    name: 'shop',
    userInfo: { username: 'alice', groups: ['system:authenticated'] },
    object: {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'shop', namespace },
      spec,
    },
  };
}

function accessPolicy(rule: string, parameters: unknown): AdmissionRequest {
  return {
    uid: 'uid-2',
    kind: { group: 'tenantgate.io', version: 'v1alpha1', kind: 'AccessPolicy' },
    operation: 'CREATE',
    namespace: 'acme-api',
    name: 'p',
    userInfo: { username: 'alice' },
    object: { metadata: { name: 'p', namespace: 'acme-api' }, spec: { targetRefs: [], rule, parameters } },
  };
}

const request: AccessInput = {
  method: 'GET',
  path: '/',
  host: 'shop.acme.example.com',
  headers: { 'x-team': 'blue' },
  source_ip: '10.1.2.3',
  route: { kind: 'HTTPRoute', namespace: 'acme-web', name: 'shop' },
  tenant: 'acme',
  parameters: {},
};

// A platform team's bundle: one admission policy and one data-path rule, compiled like any custom bundle.
const customModules = {
  'team.rego': `package tenantgate.admission
violations contains {"policy": "require-team-label", "msg": "metadata.labels.team is missing — add a team label"} if {
  input.request.kind.kind == "HTTPRoute"
  not input.request.object.metadata.labels.team
}`,
  'rules.rego': `package tenantgate.access
catalog := {"team-header": {"entrypoint": "tenantgate/access/team_header/decision", "description": "require x-team", "schema": {"type": "object", "required": ["team"], "properties": {"team": {"type": "string"}}}}}`,
  'team_header.rego': `package tenantgate.access.team_header
default decision := {"allow": false, "status": 403, "reason": "wrong team"}
decision := {"allow": true, "status": 200, "reason": "ok"} if input.headers["x-team"] == input.parameters.team`,
};
const customEntrypoints = [
  'tenantgate/admission/violations',
  'tenantgate/access/catalog',
  'tenantgate/access/team_header/decision',
];

describe('PolicyEngine', () => {
  let builtin: Buffer;
  let custom: Buffer;
  beforeAll(() => {
    builtin = builtinBundleBytes();
    custom = buildBundle(customModules, customEntrypoints);
  });

  const engine = async (options: Parameters<typeof PolicyEngine.create>[0] = {}) => {
    const e = await PolicyEngine.create({ builtinBundle: builtin, ...options });
    e.setData(inventory);
    return e;
  };

  it('loads the built-in bundle with its data-path rules', async () => {
    const e = await engine();
    expect(e.bundles()).toEqual([expect.objectContaining({ name: 'builtin', admission: true })]);
    expect(
      e
        .accessRules()
        .map((r) => r.name)
        .sort(),
    ).toEqual(['allow-cidrs', 'api-key', 'methods', 'require-headers']);
  });

  it('accepts a route inside the fences and refuses one outside, naming each policy', async () => {
    const e = await engine();
    expect(e.evaluateAdmission(routeCreate(goodRoute))).toMatchObject({ decisions: [], denied: false });
    const bad = e.evaluateAdmission(
      routeCreate({
        ...goodRoute,
        hostnames: ['www.globex.example.com'],
        parentRefs: [{ name: 'private', namespace: 'infra' }],
      }),
    );
    expect(bad.denied).toBe(true);
    expect(bad.decisions.map((d) => [d.policy, d.action])).toEqual([
      ['route-hostnames', 'deny'],
      ['route-parent-refs', 'deny'],
    ]);
    expect(bad.decisions[0]!.message).toContain(
      "'www.globex.example.com' is not among tenant 'acme' hostnames",
    );
  });

  it('sees a new data document at once, without recompiling', async () => {
    const e = await engine();
    expect(e.evaluateAdmission(routeCreate(goodRoute)).denied).toBe(false);
    e.setData({ ...inventory, route_counts: { ...inventory.route_counts, acme: 3 } });
    expect(e.evaluateAdmission(routeCreate(goodRoute)).decisions.map((d) => d.policy)).toEqual([
      'route-count',
    ]);
    e.setData(inventory);
    expect(e.evaluateAdmission(routeCreate(goodRoute)).denied).toBe(false);
  });

  it('applies the enforcement action configured per policy', async () => {
    const e = await engine({
      enforcement: {
        default: 'deny',
        policies: { 'route-hostnames': 'warn', 'route-parent-refs': 'dryrun' },
      },
    });
    const result = e.evaluateAdmission(
      routeCreate({
        ...goodRoute,
        hostnames: ['x.example.org'],
        parentRefs: [{ name: 'private', namespace: 'infra' }],
      }),
    );
    expect(result.decisions.map((d) => [d.policy, d.action])).toEqual([
      ['route-hostnames', 'warn'],
      ['route-parent-refs', 'dryrun'],
    ]);
    expect(result.denied).toBe(false);
    e.setEnforcement({ default: 'warn', policies: {} });
    expect(
      e.evaluateAdmission(routeCreate({ ...goodRoute, hostnames: ['x.example.org'] })).decisions[0]!.action,
    ).toBe('warn');
  });

  it('checks AccessPolicy parameters against the schema of the rule', async () => {
    const e = await engine();
    expect(e.evaluateAdmission(accessPolicy('allow-cidrs', { cidrs: ['10.0.0.0/8'] })).denied).toBe(false);
    const bad = e.evaluateAdmission(accessPolicy('allow-cidrs', { cidrs: ['10.0.0.0/40'] }));
    expect(bad.decisions.map((d) => d.policy)).toEqual(['access-policy-rule']);
    expect(bad.decisions[0]!.message).toMatch(
      /^spec\.parameters\.cidrs\[0\] is '10\.0\.0\.0\/40', not a CIDR/,
    );
    expect(e.evaluateAdmission(accessPolicy('team-header', { team: 'blue' })).denied).toBe(true);
  });

  it('evaluates data-path rules and refuses unknown ones', async () => {
    const e = await engine();
    expect(e.evaluateAccess('allow-cidrs', { ...request, parameters: { cidrs: ['10.0.0.0/8'] } })).toEqual({
      allow: true,
      status: 200,
      reason: 'source address in an allowed range',
    });
    expect(
      e.evaluateAccess('methods', { ...request, method: 'POST', parameters: { methods: ['GET'] } }),
    ).toMatchObject({
      allow: false,
      status: 403,
    });
    expect(() => e.evaluateAccess('nope', request)).toThrow(UnknownAccessRuleError);
  });

  it('adds a custom bundle: its policies, its data-path rules, and their schemas for admission', async () => {
    const e = await engine({ enforcement: { policies: { 'require-team-label': 'warn' } } });
    await e.setBundle('team-rules', custom);
    expect(e.bundles().map((b) => b.name)).toEqual(['builtin', 'team-rules']);
    const result = e.evaluateAdmission(routeCreate(goodRoute));
    expect(result.decisions).toEqual([
      expect.objectContaining({ policy: 'require-team-label', bundle: 'team-rules', action: 'warn' }),
    ]);
    expect(e.evaluateAccess('team-header', { ...request, parameters: { team: 'blue' } }).allow).toBe(true);
    expect(e.evaluateAccess('team-header', { ...request, parameters: { team: 'red' } }).allow).toBe(false);
    expect(e.evaluateAdmission(accessPolicy('team-header', { team: 'blue' })).denied).toBe(false);
    expect(e.evaluateAdmission(accessPolicy('team-header', {})).decisions[0]!.message).toContain(
      'spec.parameters.team is required',
    );
    expect(e.removeBundle('team-rules')).toBe(true);
    expect(e.evaluateAdmission(routeCreate(goodRoute)).decisions).toEqual([]);
  });

  it('refuses broken bundles and keeps the last good one in force', async () => {
    const e = await engine();
    await e.setBundle('team-rules', custom);
    await expect(e.setBundle('team-rules', Buffer.from('not a bundle'))).rejects.toThrow(
      /neither a bundle archive/,
    );
    const noEntrypoints = buildBundle({ 'x.rego': 'package x\ny := 1' }, ['x/y']);
    await expect(e.setBundle('team-rules', noEntrypoints)).rejects.toThrow(
      /has neither entrypoint tenantgate\/admission\/violations/,
    );
    const clash = buildBundle(
      {
        'c.rego': `package tenantgate.access
catalog := {"methods": {"entrypoint": "tenantgate/access/d", "schema": {}}}
d := {"allow": true}`,
      },
      ['tenantgate/access/catalog', 'tenantgate/access/d'],
    );
    await expect(e.setBundle('team-rules', clash)).rejects.toThrow(
      /'methods' is already provided by bundle 'builtin'/,
    );
    // the previous team-rules still serves
    expect(e.evaluateAccess('team-header', { ...request, parameters: { team: 'blue' } }).allow).toBe(true);
    expect(e.evaluateAdmission(routeCreate(goodRoute)).decisions.map((d) => d.policy)).toEqual([
      'require-team-label',
    ]);
  });

  it('fails closed when a bundle fails during evaluation', async () => {
    const e = await engine();
    // http.send is not implemented by opa-wasm: built without the capabilities check, it fails at run time
    const failing = buildBundle(
      {
        'f.rego': `package tenantgate.admission
violations contains {"policy": "p", "msg": http.send({"method": "GET", "url": "http://127.0.0.1:1"}).body} if input.request.kind.kind == "HTTPRoute"`,
      },
      ['tenantgate/admission/violations'],
      { capabilities: false },
    );
    await e.setBundle('failing', failing);
    const result = e.evaluateAdmission(routeCreate(goodRoute));
    expect(result.denied).toBe(true);
    expect(result.decisions).toEqual([
      expect.objectContaining({ policy: BUNDLE_ERROR_POLICY, bundle: 'failing', action: 'deny' }),
    ]);
  });

  it('answers what a rule declares it reads, and moves its generation when anything it answers may change', async () => {
    const e = await engine();
    expect(e.accessReads('allow-cidrs', { cidrs: ['10.0.0.0/8'] })).toEqual({
      fields: ['source_ip'],
      headers: [],
    });
    expect(e.accessReads('require-headers', { headers: [{ name: 'X-B' }, { name: 'x-a' }] })).toEqual({
      fields: [],
      headers: ['x-a', 'x-b'],
    });
    expect(e.accessReads('methods', { methods: ['GET'] })).toEqual({ fields: ['method'], headers: [] });
    expect(e.accessReads('nope', {})).toBeUndefined();
    await e.setBundle('team-rules', custom);
    expect(e.accessReads('team-header', { team: 'blue' })).toBeUndefined(); // declares nothing: not cached

    const generations = [e.generation];
    await e.setBundle('team-rules', custom);
    generations.push(e.generation);
    e.setData(inventory);
    generations.push(e.generation);
    e.removeBundle('team-rules');
    generations.push(e.generation);
    expect(new Set(generations).size).toBe(4);

    // a declaration of the wrong shape is no declaration; one naming an entrypoint not built is refused
    const module = (reads: string) => ({
      'r.rego': `package tenantgate.access
catalog := {"odd": {"entrypoint": "tenantgate/access/d", "reads": "tenantgate/access/reads", "schema": {}}}
d := {"allow": true}
reads := ${reads}`,
    });
    const entrypoints = ['tenantgate/access/catalog', 'tenantgate/access/d', 'tenantgate/access/reads'];
    await e.setBundle('odd', buildBundle(module('{"fields": ["cookie_jar"]}'), entrypoints));
    expect(e.accessReads('odd', {})).toBeUndefined();
    await expect(e.setBundle('odd2', buildBundle(module('{}'), entrypoints.slice(0, 2)))).rejects.toThrow(
      /names reads "tenantgate\/access\/reads", which is not an entrypoint of the module/,
    );
  });
});
