// RBAC does what it says, checked as the owners themselves (requests with Impersonate-User/-Group
// headers, authorized by the real RBAC authorizer).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObject, createObject, mergePatch } from '../../kube/apply.ts';
import { KubeApiError, KubeClient } from '../../kube/client.ts';
import { KINDS } from '../../kube/resources.ts';
import { fixture, readyTenant, uniqueName, type Fixture } from './tenant-fixtures.ts';

let f: Fixture;
let alice: KubeClient;
let devGroupMember: KubeClient;
let deployer: KubeClient;
const alpha = { name: uniqueName('alpha'), ns1: uniqueName('alpha-one'), ns2: uniqueName('alpha-two') };
const beta = { name: uniqueName('beta'), ns: uniqueName('beta-one') };
const aliceName = uniqueName('alice');
const devGroup = uniqueName('alpha-devs');

function route(namespace: string, name = uniqueName('route')) {
  return {
    apiVersion: KINDS.HTTPRoute.apiVersion,
    kind: 'HTTPRoute',
    metadata: { name, namespace },
    spec: {
      parentRefs: [{ name: 'shared', namespace: 'infra' }],
      rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }],
    },
  };
}

async function status(p: Promise<unknown>): Promise<number> {
  try {
    await p;
    return 200;
  } catch (err) {
    if (err instanceof KubeApiError) return err.statusCode;
    throw err;
  }
}

beforeAll(async () => {
  f = fixture();
  await f.startOperator();
  await f.tenant(alpha.name, {
    owners: [
      { kind: 'User', name: aliceName },
      { kind: 'Group', name: devGroup },
      { kind: 'ServiceAccount', name: 'deployer', namespace: alpha.ns1 },
    ],
    namespaces: [{ name: alpha.ns1 }, { name: alpha.ns2 }],
  });
  await f.tenant(beta.name, {
    owners: [{ kind: 'User', name: uniqueName('bob') }],
    namespaces: [{ name: beta.ns }],
  });
  await readyTenant(f.admin, alpha.name);
  await readyTenant(f.admin, beta.name);
  alice = new KubeClient({ kubeConfig: f.kc, impersonate: { user: aliceName } });
  devGroupMember = new KubeClient({
    kubeConfig: f.kc,
    impersonate: { user: uniqueName('carol'), groups: [devGroup] },
  });
  deployer = new KubeClient({
    kubeConfig: f.kc,
    impersonate: { user: `system:serviceaccount:${alpha.ns1}:deployer` },
  });
});

afterAll(async () => {
  await Promise.all([alice, devGroupMember, deployer].map((c) => c?.close()));
  await f.close();
});

describe('an owner', () => {
  it('can create HTTPRoutes, Services and Secrets in each of its namespaces', async () => {
    for (const ns of [alpha.ns1, alpha.ns2]) {
      expect(await status(createObject(alice, route(ns)))).toBe(200);
      expect(
        await status(
          createObject(alice, {
            apiVersion: 'v1',
            kind: 'Service',
            metadata: { name: uniqueName('svc'), namespace: ns },
            spec: { ports: [{ port: 80 }] },
          } as never),
        ),
      ).toBe(200);
      expect(
        await status(
          createObject(alice, {
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: uniqueName('s'), namespace: ns },
            stringData: { a: 'b' },
          } as never),
        ),
      ).toBe(200);
    }
  });

  it('gets the same rights through a Group owner and a ServiceAccount owner', async () => {
    expect(await status(createObject(devGroupMember, route(alpha.ns2)))).toBe(200);
    expect(await status(createObject(deployer, route(alpha.ns1)))).toBe(200);
  });

  it("cannot create an HTTPRoute in another tenant's namespace", async () => {
    expect(await status(createObject(alice, route(beta.ns)))).toBe(403);
    expect(await status(createObject(devGroupMember, route(beta.ns)))).toBe(403);
  });

  it('cannot create a ReferenceGrant or a RoleBinding, even in its own namespace', async () => {
    const grant = {
      apiVersion: KINDS.ReferenceGrant.apiVersion,
      kind: 'ReferenceGrant',
      metadata: { name: uniqueName('grant'), namespace: alpha.ns1 },
      spec: {
        from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: beta.ns }],
        to: [{ group: '', kind: 'Service' }],
      },
    };
    expect(await status(createObject(alice, grant as never))).toBe(403);
    const binding = {
      apiVersion: KINDS.RoleBinding.apiVersion,
      kind: 'RoleBinding',
      metadata: { name: uniqueName('rb'), namespace: alpha.ns1 },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'admin' },
      subjects: [{ kind: 'User', name: aliceName, apiGroup: 'rbac.authorization.k8s.io' }],
    };
    expect(await status(createObject(alice, binding as never))).toBe(403);
  });

  it("cannot edit its namespace's labels, or delete the namespace", async () => {
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: alpha.ns1 } };
    expect(
      await status(mergePatch(alice, ns, { metadata: { labels: { 'tenantgate.io/tenant': beta.name } } })),
    ).toBe(403);
    expect(
      await status(
        applyObject(
          alice,
          { ...ns, metadata: { name: alpha.ns1, labels: { x: 'y' } } },
          { fieldManager: 'alice' },
        ),
      ),
    ).toBe(403);
    expect(await status(alice.request({ method: 'DELETE', path: `/api/v1/namespaces/${alpha.ns1}` }))).toBe(
      403,
    );
  });

  it('has nothing cluster-wide', async () => {
    expect(
      await status(alice.request({ method: 'GET', path: '/apis/gateway.networking.k8s.io/v1/httproutes' })),
    ).toBe(403);
    expect(await status(alice.request({ method: 'GET', path: '/api/v1/namespaces' }))).toBe(403);
    expect(await status(alice.request({ method: 'GET', path: '/apis/tenantgate.io/v1alpha1/tenants' }))).toBe(
      403,
    );
  });
});
