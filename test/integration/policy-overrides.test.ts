// GEP-713 overrides against the real API server: a platform team's Gateway-level override AccessPolicy and
// RateLimitPolicy (in a platform namespace) beside a tenant's own route policies, both ways — the override
// refusing what the tenant allows, the tenant's default refusing what the override allows — with the status
// the proxy writes (Enforced naming the overrides in force, Overridden naming the policies that shadow a
// Gateway default, the tenantgate.io/PoliciesInForce route condition); the admission webhook refusing an
// override from a tenant namespace (policy-overrides) and the CRD refusing both spellings of defaults; and
// `tenantgate explain` run against the cluster.
//
// Integration files share one API server: the webhook sees only objects with this file's label, and the
// proxy serves only its own controllerName.
import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { applyObject, createObject, deleteObject } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { projectRoot } from '../../kube/envtest/paths.ts';
import { KINDS, type KindRef } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import type { RunningProxy } from '../../proxy/index.ts';
import { startWebhook, type RunningWebhook } from '../../webhooks/index.ts';
import { testKubeConfig, testKubeconfigPath } from '../env/test-cluster.ts';
import { freePort, request, type EchoBackend } from '../e2e/proxy-harness.ts';
import { GW, STAND_IN_ADDRESS, startClusterProxy, startLoopbackEcho } from './cluster-proxy-fixtures.ts';
import { policyAncestorCondition, routeParentCondition, waitForCondition } from './policy-conditions.ts';
import { deleteQuietly, eventually, grantUser, refusal, uniqueName } from './tenant-fixtures.ts';

const exec = promisify(execFile);
const TG = 'tenantgate.io/v1alpha1';
const TEST_LABEL = 'test.tenantgate.io/overrides';
const run = uniqueName('ovr');
const labels = { [TEST_LABEL]: run };
const infra = uniqueName('ovr-infra');
const team = uniqueName('ovr-team');
// the webhook's own namespace, which it exempts
const system = uniqueName('ovr-system');
const acme = uniqueName('ovr-acme');
const alice = uniqueName('alice');
const className = uniqueName('tenantgate');
const CONTROLLER = `tenantgate.io/${uniqueName('overrides')}`;
const registrationName = uniqueName('tenantgate-ovr');

let admin: KubeClient;
let asAlice: KubeClient;
let webhook: RunningWebhook | undefined;
let proxy: RunningProxy;
let backend: EchoBackend;
let port: number;
const fromAllowed = new http.Agent({ localAddress: '127.0.0.2' });

type Obj = KubeObject & { apiVersion: string; kind: string; metadata: { name: string } } & Record<
    string,
    unknown
  >;

const ref = (kind: string, name: string) => ({ group: 'gateway.networking.k8s.io', kind, name });

function policy(
  kind: 'AccessPolicy' | 'RateLimitPolicy',
  namespace: string,
  name: string,
  target: { kind: string; name: string },
  spec: Record<string, unknown>,
): Obj {
  return {
    apiVersion: TG,
    kind,
    metadata: { name, namespace, labels },
    spec: { targetRefs: [ref(target.kind, target.name)], ...spec },
  };
}

const route = (name: string): Obj => ({
  apiVersion: GW,
  kind: 'HTTPRoute',
  metadata: { name, namespace: team },
  spec: {
    parentRefs: [{ name: 'gw', namespace: infra }],
    rules: [
      {
        matches: [{ path: { type: 'PathPrefix', value: `/${name}` } }],
        backendRefs: [{ name: 'svc', port: 80 }],
      },
    ],
  },
});

const ancestorCondition = (kind: KindRef, namespace: string, name: string, type: string) =>
  policyAncestorCondition(admin, { kind, namespace, name, controller: CONTROLLER, type, ancestor: 'gw' });

const routeCondition = (name: string, type: string) =>
  routeParentCondition(admin, { namespace: team, name, controller: CONTROLLER, type });

beforeAll(async () => {
  const kc = testKubeConfig();
  admin = new KubeClient({ kubeConfig: kc, userAgent: 'tenantgate-tests' });
  asAlice = new KubeClient({
    kubeConfig: kc,
    userAgent: 'tenantgate-tests',
    impersonate: { user: alice, groups: ['system:authenticated'] },
  });
  backend = await startLoopbackEcho('overrides-backend');
  port = await freePort();
  for (const name of [infra, team, system])
    await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  await createObject(admin, {
    apiVersion: KINDS.Tenant.apiVersion,
    kind: 'Tenant',
    metadata: { name: acme, labels },
    spec: {
      owners: [{ kind: 'User', name: alice }],
      namespaces: [{ name: team }],
      gateways: [{ name: 'gw', namespace: infra }],
      hostnames: [`${acme}.example.com`],
    },
  } as Obj);
  // alice may write policies in her namespace (no operator runs here to grant it): admission comes after RBAC
  await grantUser(admin, alice, {
    name: 'policies',
    namespace: team,
    rules: [
      { apiGroups: ['tenantgate.io'], resources: ['accesspolicies', 'ratelimitpolicies'], verbs: ['*'] },
    ],
  });

  const objects: Obj[] = [
    {
      apiVersion: GW,
      kind: 'GatewayClass',
      metadata: { name: className },
      spec: { controllerName: CONTROLLER },
    },
    {
      apiVersion: GW,
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: infra },
      spec: {
        gatewayClassName: className,
        addresses: [{ type: 'IPAddress', value: '127.0.0.1' }],
        listeners: [{ name: 'http', port, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }],
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc', namespace: team },
      spec: { ports: [{ name: 'http', port: 80 }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'svc-1', namespace: team, labels: { 'kubernetes.io/service-name': 'svc' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [STAND_IN_ADDRESS], conditions: { ready: true } }],
      ports: [{ name: 'http', port: backend.port, protocol: 'TCP' }],
    },
    route('open'),
    route('strict'),
    route('metered'),
    route('frugal'),
    // the platform: only 127.0.0.2 may reach routes under gw, and 2 requests an hour per route
    policy(
      'AccessPolicy',
      infra,
      'platform-cidrs',
      { kind: 'Gateway', name: 'gw' },
      {
        overrides: { rule: 'allow-cidrs', parameters: { cidrs: ['127.0.0.2/32'] } },
      },
    ),
    policy(
      'RateLimitPolicy',
      infra,
      'platform-quota',
      { kind: 'Gateway', name: 'gw' },
      {
        overrides: { limits: [{ name: 'platform', requests: 2, unit: 'Hour' }] },
      },
    ),
    // a platform default every tenant route replaces with its own
    policy(
      'AccessPolicy',
      infra,
      'platform-baseline',
      { kind: 'Gateway', name: 'gw' },
      {
        defaults: { rule: 'methods', parameters: { methods: ['GET', 'POST', 'DELETE'] } },
      },
    ),
    // the tenant: tries to open a route to everyone; keeps another read-only; a generous limit
    policy(
      'AccessPolicy',
      team,
      'everyone',
      { kind: 'HTTPRoute', name: 'open' },
      {
        rule: 'allow-cidrs',
        parameters: { cidrs: ['0.0.0.0/0'] },
      },
    ),
    policy(
      'AccessPolicy',
      team,
      'read-only',
      { kind: 'HTTPRoute', name: 'strict' },
      {
        defaults: { rule: 'methods', parameters: { methods: ['GET'] } },
      },
    ),
    policy(
      'AccessPolicy',
      team,
      'metered-access',
      { kind: 'HTTPRoute', name: 'metered' },
      {
        rule: 'methods',
        parameters: { methods: ['GET'] },
      },
    ),
    policy(
      'RateLimitPolicy',
      team,
      'generous',
      { kind: 'HTTPRoute', name: 'metered' },
      {
        limits: [{ name: 'tenant', requests: 5, unit: 'Hour' }],
      },
    ),
    policy(
      'AccessPolicy',
      team,
      'frugal-access',
      { kind: 'HTTPRoute', name: 'frugal' },
      {
        rule: 'methods',
        parameters: { methods: ['GET'] },
      },
    ),
    policy(
      'RateLimitPolicy',
      team,
      'frugal',
      { kind: 'HTTPRoute', name: 'frugal' },
      {
        defaults: { limits: [{ name: 'tenant', requests: 1, unit: 'Hour' }] },
      },
    ),
  ];
  // applied before the webhook is registered: the platform's setup is not what this file's webhook checks
  for (const o of objects) await applyObject(admin, o as never);

  webhook = await startWebhook({
    kubeConfig: kc,
    url: 'https://127.0.0.1:{port}/validate',
    registrationName,
    objectSelector: { matchLabels: labels },
    namespace: system,
    auditLogPath: join(mkdtempSync(join(tmpdir(), 'tg-overrides-audit-')), 'admission.jsonl'),
    policyConfig: { enforcement: { default: 'deny', policies: {} }, bundles: [] },
  });
  await vi.waitFor(() => expect(webhook!.engine.inventory.tenants[acme]).toBeDefined(), { timeout: 10_000 });
  proxy = await startClusterProxy({
    source: { kubeConfig: kc },
    controllerName: CONTROLLER,
    writeStatus: { client: admin, isLeader: () => true, leaderCheckMs: 200 },
  });
}, 120_000);

afterAll(async () => {
  fromAllowed.destroy();
  await proxy?.stop();
  await webhook?.stop();
  await backend?.close();
  await admin
    ?.request({
      method: 'DELETE',
      path: `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${registrationName}`,
    })
    .catch(() => {});
  await deleteQuietly(admin, KINDS.Tenant, acme);
  for (const name of [infra, team, system]) await deleteQuietly(admin, KINDS.Namespace, name);
  await asAlice?.close();
  await admin?.close();
});

describe('platform overrides beside tenant policies', () => {
  it('enforces both ways on the traffic: the override refuses what the tenant allows, and the reverse', async () => {
    await eventually(
      async () =>
        (await request(port, '/open', { agent: fromAllowed }).catch(() => undefined))?.status === 200,
      { what: 'traffic through the proxy' },
    );
    const byOverride = await request(port, '/open');
    expect(byOverride.status).toBe(403);
    expect(byOverride.body).toContain(`(AccessPolicy ${infra}/platform-cidrs)`);
    const byTenant = await request(port, '/strict', { agent: fromAllowed, method: 'DELETE' });
    expect(byTenant.status).toBe(403);
    expect(byTenant.body).toContain(`(AccessPolicy ${team}/read-only)`);
    // rate limits: the stricter override (2) refuses before the tenant's 5
    for (let i = 0; i < 2; i++)
      expect((await request(port, '/metered', { agent: fromAllowed })).status).toBe(200);
    const limited = await request(port, '/metered', { agent: fromAllowed });
    expect(limited.status).toBe(429);
    expect(limited.headers['x-ratelimit-limit']).toBe('2');
    expect(limited.body).toContain(`RateLimitPolicy ${infra}/platform-quota`);
    // and the other way: the tenant's stricter limit (1) refuses before the override's 2
    expect((await request(port, '/frugal', { agent: fromAllowed })).status).toBe(200);
    const tenantLimited = await request(port, '/frugal', { agent: fromAllowed });
    expect(tenantLimited.status).toBe(429);
    expect(tenantLimited.headers['x-ratelimit-limit']).toBe('1');
    expect(tenantLimited.body).toContain(`RateLimitPolicy ${team}/frugal`);
  });

  it('reports Enforced on the overrides and on the tenant policies, naming the overrides in force beside them', async () => {
    const ap = KINDS.AccessPolicy;
    const override = await waitForCondition(
      () => ancestorCondition(ap, infra, 'platform-cidrs', 'Enforced'),
      'True',
      'Enforced',
      'platform-cidrs',
    );
    expect(override.message).toBe('enforced as an override on 4 route rule(s)');
    const tenant = await waitForCondition(
      () => ancestorCondition(ap, team, 'everyone', 'Enforced'),
      'True',
      'Enforced',
      'everyone',
    );
    expect(tenant.message).toBe(
      `enforced on 1 route rule(s); overrides in force there too (every request must pass them as well): ${infra}/platform-cidrs`,
    );
    const quota = await waitForCondition(
      () => ancestorCondition(KINDS.RateLimitPolicy, infra, 'platform-quota', 'Enforced'),
      'True',
      'Enforced',
      'platform-quota',
    );
    expect(quota.message).toBe('enforced as an override on 4 route rule(s)');
    expect((await ancestorCondition(ap, infra, 'platform-cidrs', 'Accepted'))?.status).toBe('True');
  });

  it('reports Overridden on a platform default every tenant route replaces, naming them', async () => {
    const shadowed = await waitForCondition(
      () => ancestorCondition(KINDS.AccessPolicy, infra, 'platform-baseline', 'Enforced'),
      'False',
      'Overridden',
      'platform-baseline',
    );
    expect(shadowed.message).toBe(
      `more specific policies govern every route rule here: ${team}/everyone, ${team}/frugal-access, ${team}/metered-access, ${team}/read-only`,
    );
  });

  it('lists every policy in force on the route, in the order requests meet them', async () => {
    const open = await waitForCondition(
      () => routeCondition('open', 'tenantgate.io/PoliciesInForce'),
      'True',
      'PoliciesInForce',
      'open',
    );
    expect(open.message).toBe(
      `in force, in the order requests meet them: AccessPolicy ${infra}/platform-cidrs (override on Gateway/${infra}/gw), ` +
        `AccessPolicy ${team}/everyone (default on HTTPRoute/${team}/open), ` +
        `RateLimitPolicy ${infra}/platform-quota (override on Gateway/${infra}/gw)`,
    );
    const metered = await routeCondition('metered', 'tenantgate.io/PoliciesInForce');
    expect(metered?.message).toContain(
      `RateLimitPolicy ${team}/generous (default on HTTPRoute/${team}/metered), RateLimitPolicy ${infra}/platform-quota (override on Gateway/${infra}/gw)`,
    );
    expect((await routeCondition('open', 'Accepted'))?.status).toBe('True');
  });
});

describe('admission of overrides', () => {
  it('refuses spec.overrides from a tenant owner in a tenant namespace, naming the policy and the fix', async () => {
    const message = await refusal(
      createObject(
        asAlice,
        policy(
          'AccessPolicy',
          team,
          'sneaky',
          { kind: 'HTTPRoute', name: 'open' },
          {
            overrides: { rule: 'allow-cidrs', parameters: { cidrs: ['0.0.0.0/0'] } },
          },
        ),
      ),
    );
    expect(message).toContain(
      `[policy-overrides] AccessPolicy ${team}/sneaky sets spec.overrides in namespace '${team}' of tenant '${acme}', but only the platform team may override`,
    );
    expect(message).toContain('move the settings to spec.defaults');
    // the same settings as defaults are fine
    const created = await createObject(
      asAlice,
      policy(
        'AccessPolicy',
        team,
        'sneaky',
        { kind: 'HTTPRoute', name: 'open' },
        {
          defaults: { rule: 'allow-cidrs', parameters: { cidrs: ['0.0.0.0/0'] } },
        },
      ),
    );
    expect(created.metadata?.uid).toBeTruthy();
    await deleteObject(admin, created as never);
  });

  it('checks the rate-limit ceiling and the rule inside overrides from a platform namespace too', async () => {
    const message = await refusal(
      createObject(
        admin,
        policy(
          'AccessPolicy',
          infra,
          'typo',
          { kind: 'Gateway', name: 'gw' },
          { overrides: { rule: 'allow-cidr' } },
        ),
        { dryRun: true },
      ),
    );
    expect(message).toContain(
      "[access-policy-rule] spec.overrides.rule 'allow-cidr' is not a data-path rule",
    );
  });

  it('the CRD refuses both spellings of defaults, saying which to keep', async () => {
    const message = await refusal(
      createObject(
        admin,
        policy(
          'RateLimitPolicy',
          infra,
          'both',
          { kind: 'Gateway', name: 'gw' },
          {
            limits: [{ name: 'a', requests: 1, unit: 'Second' }],
            defaults: { limits: [{ name: 'a', requests: 1, unit: 'Second' }] },
          },
        ),
        { dryRun: true },
      ),
    );
    expect(message).toContain('spec.limits and spec.defaults are two spellings of the same default limits');
  });
});

describe('tenantgate explain against the cluster', () => {
  it('names the listener, route rule and policies in force with their decisions', async () => {
    const node = join(projectRoot, 'node_modules', '.bin', 'node');
    const args = [
      join(projectRoot, 'cmd', 'tenantgate.ts'),
      'explain',
      '--kubeconfig',
      testKubeconfigPath(),
      '--controller-name',
      CONTROLLER,
      '--gateway',
      `${infra}/gw`,
      '--host',
      'anything.example.com',
      '--path',
      '/open/x',
      '-o',
      'json',
    ];
    const refused = await exec(node, args).then(
      () => undefined,
      (err: { code: number; stdout: string }) => err,
    );
    expect(refused?.code).toBe(1);
    const e = JSON.parse(refused!.stdout);
    expect(e.route).toMatchObject({ kind: 'HTTPRoute', namespace: team, name: 'open', ruleIndex: 0 });
    expect(e.listener.name).toBe('http');
    expect(
      e.policies.map((p: { kind: string; id: string; section: string; decision: string }) => [
        p.kind,
        p.id,
        p.section,
        p.decision,
      ]),
    ).toEqual([
      ['AccessPolicy', `${infra}/platform-cidrs`, 'overrides', 'refuse'],
      ['AccessPolicy', `${team}/everyone`, 'defaults', 'allow'],
      ['RateLimitPolicy', `${infra}/platform-quota`, 'overrides', 'counts'],
    ]);
    expect(e.outcome.status).toBe(403);

    const allowed = await exec(node, [...args.slice(0, -2), '--source-ip', '127.0.0.2']);
    expect(allowed.stdout).toMatch(/outcome\s+forwarded to /);
  });
});
