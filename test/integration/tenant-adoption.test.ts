// Brownfield onboarding: a namespace that exists before its Tenant (workloads and all) is a conflict until
// a platform admin hands it over with the annotation tenantgate.io/adopt-by: <tenant>; the Tenant then
// owns it exactly as if it had made it — labels, owner reference, RoleBindings, ReferenceGrants, status —
// records an Adopted Event and removes the annotation. The same path gives a new Tenant the namespaces a
// deleted one of the same name released. An annotation never takes a namespace from another Tenant.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../api/tenant.ts';
import {
  ADOPT_ANNOTATION,
  OWNER_ROLE_BINDING,
  REFERENCE_GRANT_NAME,
  TENANT_LABEL,
} from '../../controllers/labels.ts';
import type { Namespace, ReferenceGrant, RoleBinding } from '../../controllers/types.ts';
import { createObject, deleteObject, mergePatch } from '../../kube/apply.ts';
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

beforeAll(async () => {
  f = fixture();
  await f.startOperator();
});

afterAll(() => f.close());

const nsRef = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });

/** A namespace a team made before tenantgate, with a label of its own and something running in it. */
async function brownfield(name: string): Promise<void> {
  // as kubectl would: tenantgate's field manager owns none of it
  await createObject(
    f.admin,
    { ...nsRef(name), metadata: { name, labels: { team: 'legacy' } } },
    { fieldManager: 'kubectl-create' },
  );
  await createObject(f.admin, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'app-config', namespace: name },
    data: { mode: 'production' },
  });
}

const annotate = (ns: string, tenant: string | null) =>
  mergePatch(
    f.admin,
    nsRef(ns),
    { metadata: { annotations: { [ADOPT_ANNOTATION]: tenant } } },
    { fieldManager: 'kubectl-annotate' },
  );

async function inConflict(name: string, ns: string): Promise<Tenant> {
  return eventually(
    async () => {
      const t = await get<Tenant>(f.admin, KINDS.Tenant, name);
      const entry = t?.status?.namespaces?.find((n) => n.name === ns);
      return readyCondition(t)?.reason === 'NamespaceConflict' && entry?.ready === false ? t : undefined;
    },
    { what: `Tenant ${name} reporting ${ns} as a conflict` },
  );
}

describe('adopting an existing namespace', () => {
  it('is a conflict until a platform admin hands it over, then owned exactly like a namespace it made', async () => {
    const name = uniqueName('brown');
    const [legacy, fresh] = [uniqueName('brown-legacy'), uniqueName('brown-fresh')];
    await brownfield(legacy);
    await f.tenant(name, {
      owners: [{ kind: 'User', name: 'lee' }],
      namespaces: [{ name: legacy, labels: { tier: 'gold' } }, { name: fresh }],
    });
    const before = await inConflict(name, legacy);
    const entry = before.status?.namespaces?.find((n) => n.name === legacy);
    expect(entry?.message).toContain(`annotates it ${ADOPT_ANNOTATION}=${name}`);
    expect(
      (await get<Namespace>(f.admin, KINDS.Namespace, legacy))?.metadata?.ownerReferences,
    ).toBeUndefined();

    await annotate(legacy, name);
    const t = await readyTenant(f.admin, name);
    // status says the same of both
    const status = Object.fromEntries((t.status?.namespaces ?? []).map((n) => [n.name, n]));
    expect(status[legacy]).toMatchObject({ ready: true, roleBindings: [OWNER_ROLE_BINDING] });
    expect({ ...status[legacy], name: fresh }).toEqual(status[fresh]);

    const [adopted, made] = await Promise.all(
      [legacy, fresh].map((ns) => get<Namespace>(f.admin, KINDS.Namespace, ns)),
    );
    // the same ownership and platform labels as the namespace it made; the team's own label stays
    expect(adopted?.metadata?.ownerReferences).toEqual(made?.metadata?.ownerReferences);
    expect(adopted?.metadata?.ownerReferences?.[0]).toMatchObject({ uid: t.metadata.uid, controller: true });
    expect(adopted?.metadata?.labels).toMatchObject({ [TENANT_LABEL]: name, tier: 'gold', team: 'legacy' });
    expect(adopted?.metadata?.annotations?.[ADOPT_ANNOTATION]).toBeUndefined();
    for (const ns of [legacy, fresh]) {
      const rb = await get<RoleBinding>(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, ns);
      expect(rb?.subjects).toEqual([{ kind: 'User', name: 'lee', apiGroup: 'rbac.authorization.k8s.io' }]);
      const grant = await get<ReferenceGrant>(f.admin, KINDS.ReferenceGrant, REFERENCE_GRANT_NAME, ns);
      const other = ns === legacy ? fresh : legacy;
      // HTTPRoutes and GRPCRoutes of the other namespace
      expect(grant?.spec.from.map((x) => x.namespace)).toEqual([other, other]);
    }
    // nothing that ran in it was touched
    expect(await get(f.admin, KINDS.ConfigMap, 'app-config', legacy)).toBeDefined();
    const events = await eventually(
      async () => {
        const all = await eventsAbout(f.admin, t.metadata.uid!);
        return all.some((e) => e.reason === 'Adopted') ? all : undefined;
      },
      { what: 'an Adopted Event' },
    );
    expect(events.find((e) => e.reason === 'Adopted')?.note).toContain(
      `adopted existing Namespace ${legacy}`,
    );

    // and it is kept like its own: a platform label removed by hand comes back
    await mergePatch(f.admin, nsRef(legacy), { metadata: { labels: { [TENANT_LABEL]: null } } });
    await eventually(
      async () =>
        (await get<Namespace>(f.admin, KINDS.Namespace, legacy))?.metadata?.labels?.[TENANT_LABEL] === name,
      { what: 'the tenant label repaired' },
    );
  });

  it('re-adopts what a deleted Tenant of the same name released', async () => {
    const name = uniqueName('again');
    const ns = uniqueName('again-ns');
    await f.tenant(name, { namespaces: [{ name: ns }] });
    const first = await readyTenant(f.admin, name);
    await deleteObject(f.admin, { apiVersion: KINDS.Tenant.apiVersion, kind: 'Tenant', metadata: { name } });
    await eventually(async () => (await get(f.admin, KINDS.Tenant, name)) === undefined, {
      what: 'the first Tenant gone',
    });
    await f.tenant(name, { namespaces: [{ name: ns }] });
    const second = await inConflict(name, ns);
    expect(second.metadata.uid).not.toBe(first.metadata.uid);
    await annotate(ns, name);
    await readyTenant(f.admin, name);
    const owned = await get<Namespace>(f.admin, KINDS.Namespace, ns);
    expect(owned?.metadata?.ownerReferences?.map((r) => r.uid)).toEqual([second.metadata.uid]);
    expect(owned?.metadata?.annotations?.[ADOPT_ANNOTATION]).toBeUndefined();
  });

  it('never takes a namespace from another Tenant, nor one handed to another', async () => {
    const [owner, taker, other] = [uniqueName('own'), uniqueName('take'), uniqueName('other')];
    const [owned, handed] = [uniqueName('own-ns'), uniqueName('handed-ns')];
    await f.tenant(owner, { namespaces: [{ name: owned }] });
    const ownerTenant = await readyTenant(f.admin, owner);
    await brownfield(handed);
    await annotate(owned, taker);
    await annotate(handed, other);
    await f.tenant(taker, { namespaces: [{ name: owned }, { name: handed }] });
    const t = await inConflict(taker, owned);
    const messages = Object.fromEntries((t.status?.namespaces ?? []).map((n) => [n.name, n.message]));
    expect(messages[owned]).toContain(`belongs to Tenant ${owner}`);
    expect(messages[handed]).toContain(`names Tenant ${other}, not ${taker}`);
    const still = await get<Namespace>(f.admin, KINDS.Namespace, owned);
    expect(still?.metadata?.ownerReferences?.map((r) => r.uid)).toEqual([ownerTenant.metadata.uid]);
    expect(await get(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, handed)).toBeUndefined();
  });
});
