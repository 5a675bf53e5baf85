// Deleting a Tenant: Retain releases its namespaces (the finalizer holds the Tenant until that is done),
// Delete deletes them — really: the test control plane runs kube-controller-manager's garbage collector
// and namespace controller; either way the Tenant's RoleBindings and ReferenceGrants go. What a Tenant
// deleted while no operator ran owned is the garbage collector's to delete, and a slow one cannot make a
// new Tenant of the same name take over what the old one still owns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../api/tenant.ts';
import { OWNER_ROLE_BINDING, RELEASE_FINALIZER, TENANT_LABEL } from '../../controllers/labels.ts';
import type { Namespace } from '../../controllers/types.ts';
import { deleteObject, mergePatch } from '../../kube/apply.ts';
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

/** The Tenant `name` recreated after `earlier` was deleted, once it reports a NamespaceConflict. */
function recreatedInConflict(name: string, earlier: Tenant, what: string): Promise<Tenant> {
  return eventually(
    async () => {
      const t = await get<Tenant>(f.admin, KINDS.Tenant, name);
      return t?.metadata.uid !== earlier.metadata.uid &&
        t?.status?.conditions?.[0]?.reason === 'NamespaceConflict'
        ? t
        : undefined;
    },
    { what },
  );
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
      await eventually(async () => (await get(f.admin, KINDS.Namespace, ns)) === undefined, {
        what: `namespace ${ns} gone`,
        timeoutMs: 30_000,
      });
      expect(await get(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, ns)).toBeUndefined();
    }
  });

  it('leaves what a Tenant deleted while no operator ran owned to the garbage collector', async () => {
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
    // no operator runs: the owner references alone take the namespace and what is in it away
    await eventually(async () => (await get(f.admin, KINDS.Namespace, ns)) === undefined, {
      what: 'the namespace of the deleted Tenant gone',
      timeoutMs: 30_000,
    });
    expect(await get(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, ns)).toBeUndefined();
    await f.startOperator();
  });

  it('with a slow garbage collector, a new Tenant of the same name waits for what the old one owned', async () => {
    const name = uniqueName('slow');
    const ns = uniqueName('slow-ns');
    const hold = 'test.tenantgate.io/hold';
    await f.tenant(name, { namespaceDeletionPolicy: 'Delete', namespaces: [{ name: ns }] });
    const first = await readyTenant(f.admin, name);
    // a finalizer of someone else's keeps the namespace, owned by the first Tenant, after it is deleted
    await mergePatch(
      f.admin,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      {
        metadata: { finalizers: [hold] },
      },
    );
    await deleteObject(f.admin, tenantRef(name));
    await gone(name);
    await eventually(
      async () => (await get<Namespace>(f.admin, KINDS.Namespace, ns))?.metadata?.deletionTimestamp,
      { what: 'the garbage collector deleting the namespace', timeoutMs: 30_000 },
    );
    await f.tenant(name, { namespaces: [{ name: ns }] });
    const waiting = await recreatedInConflict(
      name,
      first,
      'the new Tenant reporting the namespace the old one still owns',
    );
    expect(waiting.status?.namespaces?.[0]?.message).toContain(`earlier Tenant named ${name}`);
    const held = await get<Namespace>(f.admin, KINDS.Namespace, ns);
    expect(held?.metadata?.ownerReferences?.map((r) => r.uid)).toEqual([first.metadata.uid]);

    // the collector catches up: the namespace goes, and the new Tenant makes its own
    await mergePatch(
      f.admin,
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
      {
        metadata: { finalizers: null },
      },
    );
    const second = await readyTenant(f.admin, name);
    const made = await get<Namespace>(f.admin, KINDS.Namespace, ns);
    expect(made?.metadata?.ownerReferences?.map((r) => r.uid)).toEqual([second.metadata.uid]);
    expect(made?.metadata?.deletionTimestamp).toBeUndefined();
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
    const second = await recreatedInConflict(name, first, 'the recreated Tenant in conflict');
    expect(second.status?.namespaces?.[0]?.ready).toBe(false);
  });
});
