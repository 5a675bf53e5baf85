// The operator's own RBAC (config/rbac/) is enough, and is what it runs with: the operator here sends
// every request as the tenantgate ServiceAccount (impersonated), with leader election on, through
// onboarding, a spec change, drift repair and deletion.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Tenant } from '../../api/tenant.ts';
import { OWNER_ROLE_BINDING, TENANT_LABEL } from '../../controllers/labels.ts';
import type { Namespace, RoleBinding } from '../../controllers/types.ts';
import { applyObject, createObject, deleteObject, type Named } from '../../kube/apply.ts';
import { isAlreadyExists, KubeClient } from '../../kube/client.ts';
import { projectRoot } from '../../kube/envtest/paths.ts';
import { KINDS } from '../../kube/resources.ts';
import {
  eventually,
  fixture,
  get,
  readyCondition,
  readyTenant,
  uniqueName,
  type Fixture,
} from './tenant-fixtures.ts';

let f: Fixture;
let asOperator: KubeClient;
const SA = 'system:serviceaccount:tenantgate-system:tenantgate';

beforeAll(async () => {
  f = fixture();
  await createObject(f.admin, {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: 'tenantgate-system' },
  }).catch((err: unknown) => {
    if (!isAlreadyExists(err)) throw err;
  });
  const docs = parseAllDocuments(readFileSync(join(projectRoot, 'config/rbac/operator.yaml'), 'utf8')).map(
    (d) => d.toJS() as Named,
  );
  for (const doc of docs) await applyObject(f.admin, doc, { fieldManager: 'test-setup' });
  asOperator = new KubeClient({
    kubeConfig: f.kc,
    impersonate: {
      user: SA,
      groups: ['system:serviceaccounts', 'system:serviceaccounts:tenantgate-system', 'system:authenticated'],
    },
  });
  await f.startOperator({
    client: asOperator,
    leaderElection: { namespace: 'tenantgate-system', name: uniqueName('rbac-test-lease') },
  });
});

afterAll(async () => {
  await f.close();
  await asOperator.close();
});

describe('the operator running as its ServiceAccount with config/rbac', () => {
  const name = uniqueName('least');
  const [one, two, three] = [uniqueName('least-a'), uniqueName('least-b'), uniqueName('least-c')];

  it('onboards a Tenant, binding owners and a view role', async () => {
    await f.tenant(name, {
      owners: [{ kind: 'User', name: 'lee' }],
      namespaces: [{ name: one }, { name: two }],
      additionalRoleBindings: [{ clusterRoleName: 'view', subjects: [{ kind: 'Group', name: 'auditors' }] }],
    });
    const t = await readyTenant(f.admin, name, 30_000);
    expect(t.status?.namespaces?.every((n) => n.ready)).toBe(true);
    expect(
      (await get<RoleBinding>(f.admin, KINDS.RoleBinding, 'tenantgate:additional:view', two))?.roleRef.name,
    ).toBe('view');
  });

  it('repairs drift and applies spec changes, releasing a namespace', async () => {
    await deleteObject(f.admin, {
      apiVersion: KINDS.RoleBinding.apiVersion,
      kind: 'RoleBinding',
      metadata: { name: OWNER_ROLE_BINDING, namespace: one },
    });
    await eventually(async () => get(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, one), {
      what: 'the RoleBinding back',
    });
    await f.tenant(name, {
      owners: [{ kind: 'User', name: 'lee' }],
      namespaces: [{ name: one }, { name: three }],
    });
    await eventually(
      async () => {
        const t = await readyTenant(f.admin, name);
        return t.status?.namespaces?.map((n) => n.name).join() === [one, three].join();
      },
      { what: 'the new spec reconciled' },
    );
    const released = await eventually(
      async () => {
        const ns = await get<Namespace>(f.admin, KINDS.Namespace, two);
        return ns?.metadata?.labels?.[TENANT_LABEL] ? undefined : ns;
      },
      { what: `${two} released` },
    );
    expect(released.metadata?.ownerReferences ?? []).toEqual([]);
  });

  it('says which permission is missing when a Tenant names a ClusterRole it may not bind', async () => {
    const other = uniqueName('least-bad');
    await f.tenant(other, {
      namespaces: [{ name: uniqueName('least-bad-ns') }],
      additionalRoleBindings: [{ clusterRoleName: 'cluster-admin', subjects: [{ kind: 'User', name: 'x' }] }],
    });
    const t = await eventually(
      async () => {
        const tenant = await get<Tenant>(f.admin, KINDS.Tenant, other);
        return readyCondition(tenant)?.reason === 'ReconcileError' ? tenant : undefined;
      },
      { what: 'ReconcileError' },
    );
    expect(readyCondition(t)?.message).toMatch(/403.*cluster-admin/);
  });

  it('deletes a Tenant, releasing its namespaces', async () => {
    await deleteObject(f.admin, { apiVersion: KINDS.Tenant.apiVersion, kind: 'Tenant', metadata: { name } });
    await eventually(async () => (await get(f.admin, KINDS.Tenant, name)) === undefined, {
      what: 'the Tenant gone',
    });
    const ns = await get<Namespace>(f.admin, KINDS.Namespace, one);
    expect(ns?.metadata?.labels?.[TENANT_LABEL]).toBeUndefined();
    expect(await get(f.admin, KINDS.RoleBinding, OWNER_ROLE_BINDING, one)).toBeUndefined();
  });
});
