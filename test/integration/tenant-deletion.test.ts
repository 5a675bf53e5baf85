// Deleting a Tenant: Retain releases its namespaces (the finalizer holds the Tenant until that is done),
// Delete deletes them; either way the Tenant's RoleBindings and ReferenceGrants go. Objects left by a
// Tenant deleted while no operator ran are collected when one starts (there is no garbage collector in
// the test control plane, so this is the operator's own doing).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../api/tenant.ts';
import { OWNER_ROLE_BINDING, RELEASE_FINALIZER, TENANT_LABEL } from '../../controllers/labels.ts';
import type { Namespace } from '../../controllers/types.ts';
import { deleteObject } from '../../kube/apply.ts';
import { KINDS } from '../../kube/resources.ts';
import { eventually, fixture, get, readyTenant, uniqueName, type Fixture } from './tenant-fixtures.ts';

let f: Fixture;

beforeAll(async () => {
  f = fixture();
  await f.startOperator();
});

afterAll(() => f.close());

const tenantRef = (name: string) => ({
  apiVersion: KINDS.Tenant.apiVersion,
  kind: 'Tenant',
  metadata: { name },
});

async function gone(name: string): Promise<void> {
  await eventually(async () => (await get(f.admin, KINDS.Tenant, name)) === undefined, {
    what: `Tenant ${name} gone`,
  });
}

describe('deleting a Tenant', () => {
  it('with Retain: keeps the namespaces, released, and removes its grants before letting the Tenant go', async () => {
    const name = uniqueName('keep');
    const [one, two] = [uniqueName('keep-one'), uniqueName('keep-two')];
    await f.tenant(name, {
      owners: [{ kind: 'User', name: 'ivy' }],
      namespaces: [{ name: one, labels: { team: 'k' } }, { name: two }],
    });
    const t = await readyTenant(f.admin, name);
    expect(t.metadata.finalizers).toContain(RELEASE_FINALIZER);
    await deleteObject(f.admin, tenantRef(name));
    await gone(name);
    for (const ns of [one, two]) {
      const n = await get<Namespace>(f.admin, KINDS.Namespace, ns);
      expect(n?.metadata?.deletionTimestamp).toBeUndefined();
      expect(n?.metadata?.labels?.[TENANT_LABEL]).toBeUndefined();
      expect(n?.metadata?.ownerReferences ?? []).toEqual([]);
      expect(await get(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, ns)).toBeUndefined();
      expect(await get(f.admin, KINDS.ReferenceGrant, 'tenantgate-routes', ns)).toBeUndefined();
    }
  });

  it('with Delete: deletes the namespaces and grants, and needs no finalizer', async () => {
    const name = uniqueName('purge');
    const [one, two] = [uniqueName('purge-one'), uniqueName('purge-two')];
    await f.tenant(name, {
      namespaceDeletionPolicy: 'Delete',
      owners: [{ kind: 'User', name: 'jo' }],
      namespaces: [{ name: one }, { name: two }],
    });
    const t = await readyTenant(f.admin, name);
    expect(t.metadata.finalizers ?? []).not.toContain(RELEASE_FINALIZER);
    await deleteObject(f.admin, tenantRef(name));
    await gone(name);
    for (const ns of [one, two]) {
      // no namespace controller here: a deleted namespace stays Terminating
      await eventually(
        async () => (await get<Namespace>(f.admin, KINDS.Namespace, ns))?.metadata?.deletionTimestamp,
        { what: `namespace ${ns} deleted` },
      );
      await eventually(
        async () => (await get(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, ns)) === undefined,
        { what: `RoleBinding in ${ns} deleted` },
      );
    }
  });

  it('collects what a Tenant deleted while no operator ran left behind', async () => {
    const name = uniqueName('orphan');
    const ns = uniqueName('orphan-ns');
    await f.tenant(name, {
      namespaceDeletionPolicy: 'Delete',
      owners: [{ kind: 'User', name: 'kim' }],
      namespaces: [{ name: ns }],
    });
    await readyTenant(f.admin, name);
    await Promise.all(f.operators.splice(0).map((op) => op.stop()));
    await deleteObject(f.admin, tenantRef(name));
    await gone(name);
    expect((await get<Namespace>(f.admin, KINDS.Namespace, ns))?.metadata?.deletionTimestamp).toBeUndefined();
    await f.startOperator();
    await eventually(
      async () => (await get<Namespace>(f.admin, KINDS.Namespace, ns))?.metadata?.deletionTimestamp,
      { what: 'the orphaned namespace deleted' },
    );
    await eventually(
      async () => (await get(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, ns)) === undefined,
      { what: 'the orphaned RoleBinding deleted' },
    );
  });

  it('does not hand the namespaces a deleted Tenant released to a new Tenant of the same name', async () => {
    const name = uniqueName('again');
    const ns = uniqueName('again-ns');
    await f.tenant(name, { namespaces: [{ name: ns }] });
    const first = await readyTenant(f.admin, name);
    await deleteObject(f.admin, tenantRef(name));
    await gone(name);
    // Retain released it: the new incarnation finds an unowned namespace, a conflict
    await f.tenant(name, { namespaces: [{ name: ns }] });
    const second = await eventually(
      async () => {
        const t = await get<Tenant>(f.admin, KINDS.Tenant, name);
        return t?.metadata.uid !== first.metadata.uid &&
          t?.status?.conditions?.[0]?.reason === 'NamespaceConflict'
          ? t
          : undefined;
      },
      { what: 'the recreated Tenant in conflict' },
    );
    expect(second.status?.namespaces?.[0]?.ready).toBe(false);
  });
});
