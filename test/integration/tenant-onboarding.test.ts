// Onboarding: one Tenant makes its namespaces (labelled and owned), the owner ClusterRole and
// RoleBindings, additionalRoleBindings, ReferenceGrants within the tenant, and a complete status; Events.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { projectRoot } from '../../kube/envtest/paths.ts';
import type { Tenant } from '../../api/tenant.ts';
import {
  OWNER_CLUSTER_ROLE,
  OWNER_ROLE_BINDING,
  RELEASE_FINALIZER,
  TENANT_LABEL,
} from '../../controllers/labels.ts';
import type { ClusterRole, Namespace, ReferenceGrant, RoleBinding } from '../../controllers/types.ts';
import { applyObject, createObject } from '../../kube/apply.ts';
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
const tenantName = uniqueName('acme');
const web = uniqueName('acme-web');
const api = uniqueName('acme-api');
const infra = uniqueName('infra');
const gatewayLabel = `gw-${uniqueName('access')}`;

beforeAll(async () => {
  f = fixture();
  await createObject(f.admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: infra } });
  await createObject(f.admin, {
    apiVersion: KINDS.Gateway.apiVersion,
    kind: 'Gateway',
    metadata: { name: 'shared', namespace: infra },
    spec: {
      gatewayClassName: 'tenantgate',
      listeners: [
        {
          name: 'http',
          port: 80,
          protocol: 'HTTP',
          allowedRoutes: {
            namespaces: { from: 'Selector', selector: { matchLabels: { [gatewayLabel]: 'yes' } } },
          },
        },
        {
          name: 'other',
          port: 81,
          protocol: 'HTTP',
          allowedRoutes: {
            namespaces: { from: 'Selector', selector: { matchLabels: { 'not-for-us': 'x' } } },
          },
        },
      ],
    },
  } as never);
  await f.startOperator();
  await f.tenant(tenantName, {
    owners: [
      { kind: 'Group', name: 'acme-devs' },
      { kind: 'User', name: 'alice' },
      { kind: 'ServiceAccount', name: 'deployer', namespace: web },
    ],
    namespaces: [{ name: web, labels: { team: 'web', [TENANT_LABEL]: 'forged' } }, { name: api }],
    gateways: [{ name: 'shared', namespace: infra, sectionNames: ['http'] }],
    hostnames: ['acme.example.com'],
    additionalRoleBindings: [
      { clusterRoleName: 'view', subjects: [{ kind: 'Group', name: 'acme-auditors' }] },
    ],
  });
});

afterAll(() => f.close());

describe('onboarding a Tenant', () => {
  it('becomes Ready with a complete status', async () => {
    const t = await readyTenant(f.admin, tenantName);
    expect(t.status?.observedGeneration).toBe(t.metadata.generation);
    expect(readyCondition(t)).toMatchObject({
      status: 'True',
      reason: 'Reconciled',
      observedGeneration: t.metadata.generation,
    });
    expect(t.status?.namespaces?.map((n) => [n.name, n.ready])).toEqual([
      [web, true],
      [api, true],
    ]);
    expect(t.status?.namespacesReady).toBe('2/2');
    // status lists exactly the bindings and grants that exist, by name
    for (const entry of t.status?.namespaces ?? []) {
      const selector = { namespace: entry.name, labelSelector: `tenantgate.io/tenant=${tenantName}` };
      const bindings = await f.admin.list(KINDS.RoleBinding, selector);
      const grants = await f.admin.list(KINDS.ReferenceGrant, selector);
      expect(entry.roleBindings).toEqual(bindings.items.map((b) => b.metadata!.name).sort());
      expect(entry.referenceGrants).toEqual(grants.items.map((g) => g.metadata!.name).sort());
      expect(entry.roleBindings!.length).toBeGreaterThan(0);
      expect(entry.referenceGrants!.length).toBeGreaterThan(0);
    }
    expect(t.status?.routes).toBe(0);
    expect(t.metadata.finalizers).toContain(RELEASE_FINALIZER);
  });

  it('makes the namespaces with the tenant label, its own labels, the Gateway selector label, and an owner reference', async () => {
    const t = await readyTenant(f.admin, tenantName);
    for (const name of [web, api]) {
      const ns = await get<Namespace>(f.admin, KINDS.Namespace, name);
      expect(ns?.metadata?.labels?.[TENANT_LABEL]).toBe(tenantName);
      expect(ns?.metadata?.labels?.[gatewayLabel]).toBe('yes');
      expect(ns?.metadata?.labels?.['not-for-us']).toBeUndefined();
      expect(ns?.metadata?.ownerReferences).toEqual([
        {
          apiVersion: 'tenantgate.io/v1alpha1',
          kind: 'Tenant',
          name: tenantName,
          uid: t.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    const webNs = await get<Namespace>(f.admin, KINDS.Namespace, web);
    expect(webNs?.metadata?.labels?.team).toBe('web');
  });

  it('binds the owners to the tenant-owner ClusterRole in every namespace, plus additionalRoleBindings', async () => {
    const t = await readyTenant(f.admin, tenantName);
    const role = await get<ClusterRole>(f.admin, KINDS.ClusterRole, OWNER_CLUSTER_ROLE);
    expect(role?.rules?.some((r) => r.resources.includes('httproutes') && r.verbs.includes('create'))).toBe(
      true,
    );
    expect(
      role?.rules?.some(
        (r) =>
          r.resources.includes('referencegrants') ||
          r.resources.includes('rolebindings') ||
          r.resources.includes('namespaces'),
      ),
    ).toBe(false);
    for (const ns of [web, api]) {
      const rb = await get<RoleBinding>(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, ns);
      expect(rb?.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: OWNER_CLUSTER_ROLE,
      });
      expect(rb?.subjects).toEqual([
        { kind: 'Group', name: 'acme-devs', apiGroup: 'rbac.authorization.k8s.io' },
        { kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' },
        { kind: 'ServiceAccount', name: 'deployer', namespace: web },
      ]);
      expect(rb?.metadata?.labels?.[TENANT_LABEL]).toBe(tenantName);
      expect(rb?.metadata?.ownerReferences?.[0]?.uid).toBe(t.metadata.uid);
      const extra = await get<RoleBinding>(f.admin, KINDS.RoleBinding, 'tenantgate:additional:view', ns);
      expect(extra?.roleRef.name).toBe('view');
      expect(extra?.subjects).toEqual([
        { kind: 'Group', name: 'acme-auditors', apiGroup: 'rbac.authorization.k8s.io' },
      ]);
    }
  });

  it("grants routes in each tenant namespace access to Services in the tenant's other namespaces only", async () => {
    await readyTenant(f.admin, tenantName);
    const inApi = await get<ReferenceGrant>(f.admin, KINDS.ReferenceGrant, 'tenantgate-routes', api);
    expect(inApi?.spec).toEqual({
      from: [
        { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: web },
        { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute', namespace: web },
      ],
      to: [{ group: '', kind: 'Service' }],
    });
    const inWeb = await get<ReferenceGrant>(f.admin, KINDS.ReferenceGrant, 'tenantgate-routes', web);
    expect(inWeb?.spec.from.map((e) => e.namespace)).toEqual([api, api]);
    expect(inWeb?.metadata?.labels?.[TENANT_LABEL]).toBe(tenantName);
  });

  it('counts the routes in its namespaces', async () => {
    await applyObject(f.admin, {
      apiVersion: KINDS.HTTPRoute.apiVersion,
      kind: 'HTTPRoute',
      metadata: { name: 'web', namespace: web },
      spec: {
        parentRefs: [{ name: 'shared', namespace: infra }],
        rules: [{ backendRefs: [{ name: 'web', port: 80 }] }],
      },
    } as never);
    await eventually(
      async () => (await get<Tenant>(f.admin, KINDS.Tenant, tenantName))?.status?.routes === 1,
      { what: 'status.routes = 1' },
    );
  });

  it('accepts and reconciles config/samples/platform/20-tenant-acme.yaml (names made unique)', async () => {
    const sample = parse(
      readFileSync(join(projectRoot, 'config/samples/platform/20-tenant-acme.yaml'), 'utf8'),
    ) as Tenant;
    const renamed = uniqueName('sample');
    const namespaces = sample.spec.namespaces.map((n) => ({ ...n, name: `${renamed}-${n.name}` }));
    await f.tenant(renamed, {
      ...sample.spec,
      namespaces,
      owners: sample.spec.owners?.map((o) => (o.namespace ? { ...o, namespace: namespaces[0]!.name } : o)),
    });
    const t = await readyTenant(f.admin, renamed);
    expect(t.status?.namespaces).toHaveLength(2);
    expect(readyCondition(t)?.message).toContain('Gateway infra/shared not found');
  });

  it('records Events on the Tenant', async () => {
    const t = await readyTenant(f.admin, tenantName);
    const events = await eventually(
      async () => {
        const mine = await eventsAbout(f.admin, t.metadata.uid!);
        return mine.some((e) => e.reason === 'Created') ? mine : undefined;
      },
      { what: 'a Created Event' },
    );
    const created = events.find((e) => e.reason === 'Created')!;
    expect(created.note).toContain(`Namespace ${web}`);
  });
});
