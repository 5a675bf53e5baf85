// RateLimitPolicy and AccessPolicy status written by the proxy in cluster mode, against the real API
// server: `status.ancestors` per Gateway with Accepted/Enforced and the reasons (Accepted, Enforced,
// Overridden, TargetNotFound, Conflicted, Invalid), the `tenantgate.io/RateLimitPolicyAffected` and
// `tenantgate.io/AccessPolicyAffected` conditions on the routes' parents, written only while the process
// is the leader, and the policies enforced on the traffic the proxy serves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObject, createObject, deleteObject } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { KINDS, type KindRef } from '../../kube/resources.ts';
import type { RunningProxy } from '../../proxy/index.ts';
import { testKubeConfig } from '../env/test-cluster.ts';
import { freePort, request, type EchoBackend } from '../e2e/proxy-harness.ts';
import { gatewayObjects, GW, startClusterProxy, startLoopbackEcho } from './cluster-proxy-fixtures.ts';
import {
  policyAncestorCondition,
  routeParentCondition,
  waitForCondition,
  type PolicyWithStatus,
} from './policy-conditions.ts';
import { eventually, get, uniqueName } from './tenant-fixtures.ts';

const TG = 'tenantgate.io/v1alpha1';
const ns = uniqueName('policy-status');
const className = uniqueName('tenantgate');
// a controller name of its own: another test's proxy serving tenantgate.io/gateway-controller in the same
// API server must neither serve this Gateway nor be mistaken for this proxy in the status
const CONTROLLER = `tenantgate.io/${uniqueName('policy-status')}`;
let client: KubeClient;
let proxy: RunningProxy;
let backend: EchoBackend;
let port: number;
let leader = false;

const targetRef = (kind: string, name: string, sectionName?: string) => ({
  group: 'gateway.networking.k8s.io',
  kind,
  name,
  ...(sectionName ? { sectionName } : {}),
});

const rateLimit = (name: string, targets: object[], requests = 1000) => ({
  apiVersion: TG,
  kind: 'RateLimitPolicy',
  metadata: { name, namespace: ns },
  spec: { targetRefs: targets, limits: [{ name: 'all', requests, unit: 'Hour' }] },
});

const access = (name: string, target: object, rule: string, parameters: object) => ({
  apiVersion: TG,
  kind: 'AccessPolicy',
  metadata: { name, namespace: ns },
  spec: { targetRefs: [target], rule, parameters },
});

const route = (name: string, path: string) => ({
  apiVersion: GW,
  kind: 'HTTPRoute',
  metadata: { name, namespace: ns },
  spec: {
    parentRefs: [{ name: 'gw' }],
    rules: [
      {
        name: 'main',
        matches: [{ path: { type: 'PathPrefix', value: path } }],
        backendRefs: [{ name: 'svc', port: 80 }],
      },
    ],
  },
});

/** Our ancestor entry's condition of `type` on policy `name` (of `kind`), once written. */
const ancestorCondition = (kind: KindRef, name: string, type: string, ancestor = 'gw') =>
  policyAncestorCondition(client, { kind, namespace: ns, name, controller: CONTROLLER, type, ancestor });

const routeCondition = (name: string, type: string) =>
  routeParentCondition(client, { namespace: ns, name, controller: CONTROLLER, type });

beforeAll(async () => {
  client = new KubeClient({ kubeConfig: testKubeConfig() });
  backend = await startLoopbackEcho('policy-backend');
  port = await freePort();
  await createObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const objects = [
    ...gatewayObjects({
      className,
      controllerName: CONTROLLER,
      namespace: ns,
      listeners: [{ name: 'http', port, protocol: 'HTTP' }],
      backend,
    }),
    route('api', '/api'),
    route('web', '/web'),
    route('locked', '/locked'),
    rateLimit('route-limit', [targetRef('HTTPRoute', 'api')], 2),
    rateLimit('gateway-limit', [targetRef('Gateway', 'gw')]),
    rateLimit('missing-target', [targetRef('HTTPRoute', 'nope')]),
    rateLimit('missing-rule', [targetRef('HTTPRoute', 'api', 'nope')]),
    access('loopback-only', targetRef('HTTPRoute', 'web'), 'allow-cidrs', { cidrs: ['127.0.0.0/8'] }),
    access('typo', targetRef('HTTPRoute', 'locked'), 'allow-cidr', { cidrs: ['127.0.0.0/8'] }),
  ];
  for (const o of objects) await applyObject(client, o as never);
  // created after route-limit, so route-limit is older and wins the target
  await new Promise((r) => setTimeout(r, 1100));
  await applyObject(client, rateLimit('younger', [targetRef('HTTPRoute', 'api')]) as never);
  proxy = await startClusterProxy({
    source: { kubeConfig: testKubeConfig() },
    controllerName: CONTROLLER,
    writeStatus: { client, isLeader: () => leader, leaderCheckMs: 200 },
  });
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await backend?.close();
  client?.close();
});

describe('policy status written by the proxy', () => {
  it('writes nothing while another process is the leader, and everything once this one is', async () => {
    // the proxy serves (and enforces) without being the leader
    await eventually(async () => (await request(port, '/web').catch(() => undefined))?.status === 200, {
      what: 'traffic through the proxy',
    });
    await new Promise((r) => setTimeout(r, 1500)); // time a leader would have needed to write
    const held = await get<PolicyWithStatus>(client, KINDS.RateLimitPolicy, 'route-limit', ns);
    expect(held?.status?.ancestors?.filter((a) => a.controllerName === CONTROLLER) ?? []).toEqual([]);
    expect(await routeCondition('api', 'Accepted')).toBeUndefined();
    leader = true;
    await waitForCondition(
      () => ancestorCondition(KINDS.RateLimitPolicy, 'route-limit', 'Accepted'),
      'True',
      'Accepted',
      'route-limit Accepted',
    );
  });

  it('reports RateLimitPolicy ancestors: Enforced, Overridden in part, TargetNotFound, Conflicted', async () => {
    const rl = KINDS.RateLimitPolicy;
    const enforced = await waitForCondition(
      () => ancestorCondition(rl, 'route-limit', 'Enforced'),
      'True',
      'Enforced',
      'route-limit Enforced',
    );
    expect(enforced.message).toMatch(/enforced on 1 route rule/);
    expect(enforced.observedGeneration).toBe(1);
    const gwEnforced = await waitForCondition(
      () => ancestorCondition(rl, 'gateway-limit', 'Enforced'),
      'True',
      'Enforced',
      'gateway-limit Enforced',
    );
    expect(gwEnforced.message).toMatch(new RegExp(`overridden on 1 by ${ns}/route-limit`));
    const missing = await waitForCondition(
      () => ancestorCondition(rl, 'missing-target', 'Accepted', 'nope'),
      'False',
      'TargetNotFound',
      'missing-target',
    );
    expect(missing.message).toMatch(/HTTPRoute .*\/nope not found/);
    const noRule = await waitForCondition(
      () => ancestorCondition(rl, 'missing-rule', 'Accepted'),
      'False',
      'TargetNotFound',
      'missing-rule',
    );
    expect(noRule.message).toMatch(/has no rule named nope/);
    const conflicted = await waitForCondition(
      () => ancestorCondition(rl, 'younger', 'Accepted'),
      'False',
      'Conflicted',
      'younger',
    );
    expect(conflicted.message).toMatch(/route-limit is older/);
    const p = await get<PolicyWithStatus>(client, rl, 'route-limit', ns);
    expect(p!.status!.ancestors![0]!.ancestorRef).toMatchObject({
      group: 'gateway.networking.k8s.io',
      kind: 'Gateway',
      namespace: ns,
      name: 'gw',
    });
  });

  it('reports AccessPolicy ancestors: Accepted/Enforced, and Invalid for a rule no bundle provides', async () => {
    const ap = KINDS.AccessPolicy;
    await waitForCondition(
      () => ancestorCondition(ap, 'loopback-only', 'Enforced'),
      'True',
      'Enforced',
      'loopback-only Enforced',
    );
    const invalid = await waitForCondition(
      () => ancestorCondition(ap, 'typo', 'Accepted'),
      'False',
      'Invalid',
      'typo Accepted',
    );
    expect(invalid.message).toMatch(/'allow-cidr' is not a data-path rule/);
    expect((await ancestorCondition(ap, 'typo', 'Enforced'))?.reason).toBe('Invalid');
  });

  it('puts the Affected conditions on the routes, beside their Gateway API conditions', async () => {
    const rlAffected = await waitForCondition(
      () => routeCondition('api', 'tenantgate.io/RateLimitPolicyAffected'),
      'True',
      'Accepted',
      'api RateLimitPolicyAffected',
    );
    expect(rlAffected.message).toBe(`rate limited by RateLimitPolicy ${ns}/route-limit`);
    // the Gateway-level limit governs web
    await waitForCondition(
      () => routeCondition('web', 'tenantgate.io/RateLimitPolicyAffected'),
      'True',
      'Accepted',
      'web RateLimitPolicyAffected',
    );
    await waitForCondition(
      () => routeCondition('web', 'tenantgate.io/AccessPolicyAffected'),
      'True',
      'Accepted',
      'web AccessPolicyAffected',
    );
    const locked = await waitForCondition(
      () => routeCondition('locked', 'tenantgate.io/AccessPolicyAffected'),
      'False',
      'Invalid',
      'locked AccessPolicyAffected',
    );
    expect(locked.message).toMatch(/refuses the requests it governs \(500\)/);
    expect((await routeCondition('api', 'Accepted'))?.status).toBe('True');
    expect(await routeCondition('api', 'tenantgate.io/AccessPolicyAffected')).toBeUndefined();
  });

  it('enforces what the status says on the traffic', async () => {
    expect((await request(port, '/api')).status).toBe(200);
    expect((await request(port, '/api')).status).toBe(200);
    const refused = await request(port, '/api');
    expect(refused.status).toBe(429);
    expect(refused.headers['x-ratelimit-limit']).toBe('2');
    expect((await request(port, '/locked')).status).toBe(500);
  });

  it('follows changes: a deleted policy leaves the route, a fixed one becomes Accepted', async () => {
    await deleteObject(client, rateLimit('route-limit', []) as never);
    // the younger policy takes over the target it lost
    await waitForCondition(
      () => ancestorCondition(KINDS.RateLimitPolicy, 'younger', 'Accepted'),
      'True',
      'Accepted',
      'younger Accepted',
    );
    await eventually(
      async () =>
        (await routeCondition('api', 'tenantgate.io/RateLimitPolicyAffected'))?.message.includes('younger'),
      { what: 'api governed by younger' },
    );
    await applyObject(
      client,
      access('typo', targetRef('HTTPRoute', 'locked'), 'allow-cidrs', { cidrs: ['127.0.0.0/8'] }) as never,
    );
    const fixed = await waitForCondition(
      () => ancestorCondition(KINDS.AccessPolicy, 'typo', 'Accepted'),
      'True',
      'Accepted',
      'typo fixed',
    );
    expect(fixed.observedGeneration).toBe(2);
    await eventually(async () => (await request(port, '/locked')).status === 200, { what: '/locked served' });
    await deleteObject(client, access('loopback-only', {}, '', {}) as never);
    await eventually(
      async () => (await routeCondition('web', 'tenantgate.io/AccessPolicyAffected')) === undefined,
      {
        what: 'web AccessPolicyAffected removed',
      },
    );
  });

  it('settles: once nothing changes, nothing more is written', async () => {
    const versions = async () =>
      Promise.all([
        get(client, KINDS.RateLimitPolicy, 'younger', ns),
        get(client, KINDS.AccessPolicy, 'typo', ns),
        get(client, KINDS.HTTPRoute, 'api', ns),
      ]).then((objects) => objects.map((o) => o?.metadata?.resourceVersion));
    await new Promise((r) => setTimeout(r, 1000));
    const before = await versions();
    await new Promise((r) => setTimeout(r, 2000));
    expect(await versions()).toEqual(before);
  });
});
