// Conflicts: a namespace that exists and is not the Tenant's (pre-existing, or another tenant's) is
// never taken over; the Tenant says so in Ready=False/NamespaceConflict, naming the owner, and an Event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../api/tenant.ts';
import { OWNER_ROLE_BINDING, TENANT_LABEL } from '../../controllers/labels.ts';
import type { Namespace } from '../../controllers/types.ts';
import { createObject } from '../../kube/apply.ts';
import { KINDS } from '../../kube/resources.ts';
import {
  eventsAbout,
  eventually,
  fixture,
  get,
  readyCondition,
  readyTenant,
  uniqueName,
  type Fixture,
} from './tenant-fixtures.ts';

let f: Fixture;
const preExisting = uniqueName('legacy');
const first = { name: uniqueName('first'), ns: uniqueName('first-ns') };
const second = { name: uniqueName('second'), own: uniqueName('second-ns') };

async function conflicted(name: string): Promise<Tenant> {
  return eventually(
    async () => {
      const t = await get<Tenant>(f.admin, KINDS.Tenant, name);
      return readyCondition(t)?.reason === 'NamespaceConflict' ? t : undefined;
    },
    { what: `Tenant ${name} in NamespaceConflict` },
  );
}

beforeAll(async () => {
  f = fixture();
  await createObject(f.admin, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: preExisting, labels: { owner: 'legacy-team' } },
  });
  await f.startOperator();
  await f.tenant(first.name, { owners: [{ kind: 'User', name: 'frank' }], namespaces: [{ name: first.ns }] });
  await readyTenant(f.admin, first.name);
});

afterAll(() => f.close());

describe('namespace conflicts', () => {
  it('refuses to take over a pre-existing namespace, and says so', async () => {
    const name = uniqueName('grabby');
    await f.tenant(name, { owners: [{ kind: 'User', name: 'gina' }], namespaces: [{ name: preExisting }] });
    const t = await conflicted(name);
    const ready = readyCondition(t)!;
    expect(ready.status).toBe('False');
    expect(ready.message).toContain(
      `namespace ${preExisting} already exists and was not created by a Tenant`,
    );
    expect(t.status?.namespaces).toEqual([{ name: preExisting, ready: false, message: ready.message }]);
    const ns = await get<Namespace>(f.admin, KINDS.Namespace, preExisting);
    expect(ns?.metadata?.labels).toEqual({
      owner: 'legacy-team',
      'kubernetes.io/metadata.name': preExisting,
    });
    expect(ns?.metadata?.ownerReferences).toBeUndefined();
    expect(await get(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, preExisting)).toBeUndefined();
    await eventually(
      async () =>
        (await eventsAbout(f.admin, t.metadata.uid!)).some(
          (e) => e.type === 'Warning' && e.reason === 'NamespaceConflict',
        ),
      {
        what: 'a NamespaceConflict Warning Event',
      },
    );
  });

  it("refuses another tenant's namespace, naming that tenant, and leaves the owner undisturbed", async () => {
    await f.tenant(second.name, {
      owners: [{ kind: 'User', name: 'hank' }],
      namespaces: [{ name: second.own }, { name: first.ns }],
    });
    const t = await conflicted(second.name);
    expect(readyCondition(t)?.message).toContain(
      `namespace ${first.ns} already exists and belongs to Tenant ${first.name}`,
    );
    // its own namespace is still made
    expect(t.status?.namespaces).toEqual([
      expect.objectContaining({ name: second.own, ready: true }),
      // nothing is made in the namespace it does not own, so status lists no bindings or grants there
      { name: first.ns, ready: false, message: expect.stringContaining(first.name) },
    ]);
    const ns = await get<Namespace>(f.admin, KINDS.Namespace, first.ns);
    expect(ns?.metadata?.labels?.[TENANT_LABEL]).toBe(first.name);
    expect(ns?.metadata?.ownerReferences?.map((r) => r.name)).toEqual([first.name]);
    // no grant from the other tenant's namespace into its own, or the reverse
    expect(await get(f.admin, KINDS.ReferenceGrant, 'tenantgate-routes', second.own)).toBeUndefined();
    expect(await get(f.admin, KINDS.ReferenceGrant, 'tenantgate-routes', first.ns)).toBeUndefined();
    expect(readyCondition(await readyTenant(f.admin, first.name))?.status).toBe('True');
  });

  it('does not take a namespace over on the strength of a forged tenant label', async () => {
    const forged = uniqueName('forged');
    const name = uniqueName('victim');
    await createObject(f.admin, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: forged, labels: { [TENANT_LABEL]: name } },
    });
    await f.tenant(name, { namespaces: [{ name: forged }] });
    const t = await conflicted(name);
    expect(readyCondition(t)?.message).toContain('ownership is not proven');
    expect(
      (await get<Namespace>(f.admin, KINDS.Namespace, forged))?.metadata?.ownerReferences,
    ).toBeUndefined();
  });

  it('becomes Ready once the conflicting namespace is dropped from the spec', async () => {
    await f.tenant(second.name, {
      owners: [{ kind: 'User', name: 'hank' }],
      namespaces: [{ name: second.own }],
    });
    const t = await readyTenant(f.admin, second.name);
    expect(t.status?.namespaces).toEqual([expect.objectContaining({ name: second.own, ready: true })]);
    // and the namespace it never owned is still the first tenant's
    expect((await get<Namespace>(f.admin, KINDS.Namespace, first.ns))?.metadata?.labels?.[TENANT_LABEL]).toBe(
      first.name,
    );
  });
});
