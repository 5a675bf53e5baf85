// Drift: what the Tenant made comes back when deleted and is restored when edited, within seconds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../api/tenant.ts';
import { OWNER_CLUSTER_ROLE, OWNER_ROLE_BINDING, TENANT_LABEL } from '../../controllers/labels.ts';
import type { ClusterRole, Namespace, ReferenceGrant, RoleBinding } from '../../controllers/types.ts';
import { deleteObject, mergePatch } from '../../kube/apply.ts';
import { KINDS } from '../../kube/resources.ts';
import {
  eventsAbout,
  eventually,
  fixture,
  get,
  readyTenant,
  uniqueName,
  type Fixture,
} from './tenant-fixtures.ts';

let f: Fixture;
let tenant: Tenant;
const name = uniqueName('drift');
const ns1 = uniqueName('drift-one');
const ns2 = uniqueName('drift-two');

beforeAll(async () => {
  f = fixture();
  await f.startOperator();
  await f.tenant(name, {
    owners: [{ kind: 'User', name: 'dana' }],
    namespaces: [{ name: ns1, labels: { team: 'one' } }, { name: ns2 }],
  });
  tenant = await readyTenant(f.admin, name);
});

afterAll(() => f.close());

const rbRef = (ns: string) => ({
  apiVersion: KINDS.RoleBinding.apiVersion,
  kind: 'RoleBinding',
  metadata: { name: OWNER_ROLE_BINDING, namespace: ns },
});
const rgRef = (ns: string) => ({
  apiVersion: KINDS.ReferenceGrant.apiVersion,
  kind: 'ReferenceGrant',
  metadata: { name: 'tenantgate-routes', namespace: ns },
});
const nsRef = (ns: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });

describe('drift repair', () => {
  it('recreates a deleted RoleBinding', async () => {
    const before = await get<RoleBinding>(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, ns1);
    expect(await deleteObject(f.admin, rbRef(ns1))).toBe(true);
    const after = await eventually(
      async () => {
        const rb = await get<RoleBinding>(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, ns1);
        return rb && rb.metadata?.uid !== before?.metadata?.uid ? rb : undefined;
      },
      { what: 'the RoleBinding to come back', timeoutMs: 10_000 },
    );
    expect(after.subjects).toEqual([{ kind: 'User', name: 'dana', apiGroup: 'rbac.authorization.k8s.io' }]);
    expect(after.metadata?.ownerReferences?.[0]?.uid).toBe(tenant.metadata.uid);
  });

  it('recreates a deleted ReferenceGrant', async () => {
    const before = await get<ReferenceGrant>(f.admin, KINDS.ReferenceGrant, 'tenantgate-routes', ns2);
    expect(await deleteObject(f.admin, rgRef(ns2))).toBe(true);
    const after = await eventually(
      async () => {
        const rg = await get<ReferenceGrant>(f.admin, KINDS.ReferenceGrant, 'tenantgate-routes', ns2);
        return rg && rg.metadata?.uid !== before?.metadata?.uid ? rg : undefined;
      },
      { what: 'the ReferenceGrant to come back', timeoutMs: 10_000 },
    );
    expect(after.spec.from.map((x) => x.namespace)).toEqual([ns1, ns1]);
  });

  it('undoes an edit to a RoleBinding and a ReferenceGrant', async () => {
    await mergePatch(
      f.admin,
      rbRef(ns2),
      { subjects: [{ kind: 'User', name: 'mallory', apiGroup: 'rbac.authorization.k8s.io' }] },
      { fieldManager: 'mallory' },
    );
    await mergePatch(
      f.admin,
      rgRef(ns1),
      {
        spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'kube-system' }] },
      },
      { fieldManager: 'mallory' },
    );
    await eventually(
      async () => {
        const rb = await get<RoleBinding>(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, ns2);
        return rb?.subjects?.length === 1 && rb.subjects[0]?.name === 'dana';
      },
      { what: 'the RoleBinding subjects restored', timeoutMs: 10_000 },
    );
    await eventually(
      async () => {
        const rg = await get<ReferenceGrant>(f.admin, KINDS.ReferenceGrant, 'tenantgate-routes', ns1);
        return rg?.spec.from.every((x) => x.namespace === ns2) && rg.spec.from.length === 2;
      },
      { what: 'the ReferenceGrant restored', timeoutMs: 10_000 },
    );
  });

  it('restores a changed or removed managed namespace label', async () => {
    await mergePatch(
      f.admin,
      nsRef(ns1),
      { metadata: { labels: { [TENANT_LABEL]: 'someone-else', team: null } } },
      { fieldManager: 'mallory' },
    );
    const ns = await eventually(
      async () => {
        const n = await get<Namespace>(f.admin, KINDS.Namespace, ns1);
        return n?.metadata?.labels?.[TENANT_LABEL] === name && n.metadata.labels.team === 'one'
          ? n
          : undefined;
      },
      { what: 'the namespace labels restored', timeoutMs: 10_000 },
    );
    expect(ns.metadata?.ownerReferences?.[0]?.uid).toBe(tenant.metadata.uid);
  });

  it('recreates and restores the shared tenant-owner ClusterRole', async () => {
    const ref = {
      apiVersion: KINDS.ClusterRole.apiVersion,
      kind: 'ClusterRole',
      metadata: { name: OWNER_CLUSTER_ROLE },
    };
    await mergePatch(
      f.admin,
      ref,
      { rules: [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }] },
      { fieldManager: 'mallory' },
    );
    await eventually(
      async () => {
        const cr = await get<ClusterRole>(f.admin, KINDS.ClusterRole, OWNER_CLUSTER_ROLE);
        return cr?.rules && cr.rules.length > 1 && !cr.rules.some((r) => r.apiGroups.includes('*'));
      },
      { what: 'the ClusterRole rules restored', timeoutMs: 10_000 },
    );
    await deleteObject(f.admin, ref);
    await eventually(
      async () =>
        (await get<ClusterRole>(f.admin, KINDS.ClusterRole, OWNER_CLUSTER_ROLE))?.rules?.some((r) =>
          r.resources.includes('httproutes'),
        ),
      {
        what: 'the ClusterRole recreated',
        timeoutMs: 10_000,
      },
    );
  });

  it('says so in a Repaired Event and stays Ready', async () => {
    await eventually(
      async () => (await eventsAbout(f.admin, tenant.metadata.uid!)).some((e) => e.reason === 'Repaired'),
      { what: 'a Repaired Event' },
    );
    const t = await readyTenant(f.admin, name);
    expect(t.status?.namespaces?.every((n) => n.ready)).toBe(true);
  });
});
