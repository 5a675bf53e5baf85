// The proxy's own RBAC (config/rbac/proxy.yaml) is enough: a proxy whose every request is sent as the
// tenantgate-proxy ServiceAccount (impersonated) reads what it routes, serves it, writes route and policy
// status, and can hold its status Lease — and cannot write anything else.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { applyObject, createObject, type Named } from '../../kube/apply.ts';
import { isAlreadyExists, isForbidden, KubeClient } from '../../kube/client.ts';
import { projectRoot } from '../../kube/envtest/paths.ts';
import { InformerFactory } from '../../kube/informer-factory.ts';
import { LeaderElector } from '../../kube/lease.ts';
import { KINDS } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import type { RunningProxy } from '../../proxy/index.ts';
import { freePort, request, type EchoBackend } from '../e2e/proxy-harness.ts';
import { testKubeConfig } from '../env/test-cluster.ts';
import { gatewayObjects, GW, startClusterProxy, startLoopbackEcho } from './cluster-proxy-fixtures.ts';
import { eventually, get, uniqueName } from './tenant-fixtures.ts';

const SA = 'system:serviceaccount:tenantgate-system:tenantgate-proxy';
const ns = uniqueName('proxy-rbac');
const className = uniqueName('tenantgate');
let admin: KubeClient;
let asProxy: KubeClient;
let informers: InformerFactory;
let proxy: RunningProxy;
let backend: EchoBackend;
let port: number;

type WithStatus = KubeObject & { status?: { parents?: unknown[]; ancestors?: unknown[] } };

beforeAll(async () => {
  admin = new KubeClient({ kubeConfig: testKubeConfig() });
  for (const name of ['tenantgate-system', ns]) {
    await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }).catch(
      (err: unknown) => {
        if (!isAlreadyExists(err)) throw err;
      },
    );
  }
  const rbac = parseAllDocuments(readFileSync(join(projectRoot, 'config/rbac/proxy.yaml'), 'utf8')).map(
    (d) => d.toJS() as Named,
  );
  for (const doc of rbac) await applyObject(admin, doc, { fieldManager: 'test-setup' });
  asProxy = new KubeClient({
    kubeConfig: testKubeConfig(),
    impersonate: {
      user: SA,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:tenantgate-system', 'system:authenticated'],
    },
  });
  backend = await startLoopbackEcho('rbac-backend');
  port = await freePort();
  const objects = [
    ...gatewayObjects({
      className,
      namespace: ns,
      listeners: [{ name: 'http', port, protocol: 'HTTP' }],
      backend,
    }),
    {
      apiVersion: GW,
      kind: 'HTTPRoute',
      metadata: { name: 'route', namespace: ns },
      spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] },
    },
    {
      apiVersion: 'tenantgate.io/v1alpha1',
      kind: 'RateLimitPolicy',
      metadata: { name: 'limit', namespace: ns },
      spec: {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'route' }],
        limits: [{ name: 'all', requests: 1000, unit: 'Second' }],
      },
    },
  ];
  for (const o of objects) await applyObject(admin, o as Named);
  informers = new InformerFactory({ client: asProxy });
  informers.start();
  proxy = await startClusterProxy({ source: { informers }, writeStatus: { client: asProxy } });
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await informers?.stop();
  await backend?.close();
  await asProxy?.close();
  await admin?.close();
});

describe('the proxy running as its ServiceAccount with config/rbac/proxy.yaml', () => {
  it('reads what it routes and serves it', async () => {
    const res = await eventually(
      async () => {
        const r = await request(port, '/', { host: 'any.example' }).catch(() => undefined);
        return r?.status === 200 ? r : undefined;
      },
      { what: 'a 200 through the proxy' },
    );
    expect(res.status).toBe(200);
  });

  it('writes route and policy status', async () => {
    const routeStatus = await eventually(
      async () => {
        const r = await get<WithStatus>(admin, KINDS.HTTPRoute, 'route', ns);
        return r?.status?.parents?.length ? r.status : undefined;
      },
      { what: 'route status' },
    );
    expect(JSON.stringify(routeStatus)).toContain('"reason":"Accepted"');
    const policyStatus = await eventually(
      async () => {
        const p = await get<WithStatus>(admin, KINDS.RateLimitPolicy, 'limit', ns);
        return p?.status?.ancestors?.length ? p.status : undefined;
      },
      { what: 'policy status' },
    );
    expect(JSON.stringify(policyStatus)).toContain('"type":"Enforced"');
  });

  it('can hold its status Lease', async () => {
    let led = false;
    const elector = new LeaderElector({
      client: asProxy,
      namespace: 'tenantgate-system',
      name: uniqueName('tenantgate-proxy-status'),
      retryPeriodMs: 200,
      onStartedLeading: () => {
        led = true;
      },
      onStoppedLeading: () => {},
    });
    elector.start();
    try {
      await eventually(() => led, { what: 'leadership' });
      expect(elector.isLeader()).toBe(true);
    } finally {
      await elector.stop();
    }
  });

  it('cannot change routes, Services or Secrets', async () => {
    const err = await applyObject(asProxy, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'stolen', namespace: ns },
      stringData: { a: 'b' },
    } as Named).catch((e: unknown) => e);
    expect(isForbidden(err)).toBe(true);
    const err2 = await applyObject(asProxy, {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'route', namespace: ns },
      spec: { parentRefs: [{ name: 'elsewhere' }] },
    } as Named).catch((e: unknown) => e);
    expect(isForbidden(err2)).toBe(true);
  });
});
