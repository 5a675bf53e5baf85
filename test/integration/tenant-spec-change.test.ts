// Spec changes: namespaces added and removed under both deletion policies, owners and labels changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant, TenantSpec } from '../../api/tenant.ts';
import { OWNER_ROLE_BINDING, RELEASE_FINALIZER, TENANT_LABEL } from '../../controllers/labels.ts';
import type { Namespace, ReferenceGrant, RoleBinding } from '../../controllers/types.ts';
import { KINDS } from '../../kube/resources.ts';
import { eventually, fixture, get, readyTenant, uniqueName, type Fixture } from './tenant-fixtures.ts';

let f: Fixture;
const name = uniqueName('change');
const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => uniqueName(`change-${x}`)) as [
  string,
  string,
  string,
  string,
];
let uid: string;

async function update(spec: TenantSpec): Promise<Tenant> {
  const applied = await f.tenant(name, spec);
  return eventually(
    async () => {
      const t = await readyTenant(f.admin, name);
      return t.metadata.generation === applied.metadata.generation ? t : undefined;
    },
    { what: `generation ${applied.metadata.generation} reconciled` },
  );
}

beforeAll(async () => {
  f = fixture();
  await f.startOperator();
  await f.tenant(name, {
    owners: [{ kind: 'User', name: 'erin' }],
    namespaces: [{ name: a, labels: { tier: 'gold' } }, { name: b }],
  });
  uid = (await readyTenant(f.admin, name)).metadata.uid!;
});

afterAll(() => f.close());

describe('spec changes', () => {
  it('adds a namespace, and widens the ReferenceGrants of the others to it', async () => {
    const t = await update({
      owners: [{ kind: 'User', name: 'erin' }],
      namespaces: [{ name: a, labels: { tier: 'gold' } }, { name: b }, { name: c }],
    });
    expect(t.status?.namespaces?.map((n) => n.name)).toEqual([a, b, c]);
    const ns = await get<Namespace>(f.admin, KINDS.Namespace, c);
    expect(ns?.metadata?.ownerReferences?.[0]?.uid).toBe(uid);
    const grant = await get<ReferenceGrant>(f.admin, KINDS.ReferenceGrant, 'tenantgate-routes', a);
    expect(grant?.spec.from.map((x) => x.namespace)).toEqual([b, b, c, c].sort());
  });

  it('changes owners and namespace labels in place', async () => {
    await update({
      owners: [{ kind: 'Group', name: 'ops' }],
      namespaces: [
        { name: a, labels: { tier: 'silver' } },
        { name: b, labels: { extra: 'yes' } },
        { name: c },
      ],
    });
    const rb = await get<RoleBinding>(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, c);
    expect(rb?.subjects).toEqual([{ kind: 'Group', name: 'ops', apiGroup: 'rbac.authorization.k8s.io' }]);
    expect((await get<Namespace>(f.admin, KINDS.Namespace, a))?.metadata?.labels?.tier).toBe('silver');
    expect((await get<Namespace>(f.admin, KINDS.Namespace, b))?.metadata?.labels?.extra).toBe('yes');
    // a label dropped from the spec is taken off the namespace
    await update({
      owners: [{ kind: 'Group', name: 'ops' }],
      namespaces: [{ name: a }, { name: b, labels: { extra: 'yes' } }, { name: c }],
    });
    expect((await get<Namespace>(f.admin, KINDS.Namespace, a))?.metadata?.labels?.tier).toBeUndefined();
  });

  it('with Retain (the default), releases a removed namespace: kept, but unlabelled, unowned and without our grants', async () => {
    await update({ owners: [{ kind: 'Group', name: 'ops' }], namespaces: [{ name: a }, { name: c }] });
    const ns = await eventually(
      async () => {
        const n = await get<Namespace>(f.admin, KINDS.Namespace, b);
        return n && !n.metadata?.labels?.[TENANT_LABEL] ? n : undefined;
      },
      { what: `namespace ${b} released` },
    );
    expect(ns.metadata?.deletionTimestamp).toBeUndefined();
    expect(ns.metadata?.ownerReferences ?? []).toEqual([]);
    expect(ns.metadata?.labels?.extra).toBeUndefined();
    expect(await get(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, b)).toBeUndefined();
    expect(await get(f.admin, KINDS.ReferenceGrant, 'tenantgate-routes', b)).toBeUndefined();
    const grant = await get<ReferenceGrant>(f.admin, KINDS.ReferenceGrant, 'tenantgate-routes', a);
    expect(grant?.spec.from.map((x) => x.namespace)).toEqual([c, c]);
  });

  it('with Delete, deletes a removed namespace and drops the finalizer', async () => {
    await update({
      namespaceDeletionPolicy: 'Delete',
      owners: [{ kind: 'Group', name: 'ops' }],
      namespaces: [{ name: a }, { name: c }, { name: d }],
    });
    const t = await update({
      namespaceDeletionPolicy: 'Delete',
      owners: [{ kind: 'Group', name: 'ops' }],
      namespaces: [{ name: a }, { name: c }],
    });
    expect(t.metadata.finalizers ?? []).not.toContain(RELEASE_FINALIZER);
    // the test control plane's namespace controller empties and removes it
    await eventually(async () => (await get(f.admin, KINDS.Namespace, d)) === undefined, {
      what: `namespace ${d} gone`,
      timeoutMs: 30_000,
    });
    expect(await get(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, d)).toBeUndefined();
    // the namespace it released earlier is not touched
    expect((await get<Namespace>(f.admin, KINDS.Namespace, b))?.metadata?.deletionTimestamp).toBeUndefined();
  });

  it('removes the owner RoleBinding when there are no owners left', async () => {
    await update({ namespaceDeletionPolicy: 'Delete', namespaces: [{ name: a }, { name: c }] });
    await eventually(
      async () => (await get(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, a)) === undefined,
      { what: 'owner RoleBinding gone' },
    );
  });
});
