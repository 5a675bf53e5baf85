// Handing a namespace to a Tenant (annotation tenantgate.io/adopt-by), through the real API server and the
// registered webhook: admitted from someone who may update the namespace (the API server's authorizer
// answers a SubjectAccessReview), refused — with the policy named, in the audit trail — from someone who
// could only create namespaces or write their status; a Tenant may then list the handed-over namespace,
// which it could not before. Admitted hand-overs are in the audit trail too (action allow).
//
// Integration files share one API server, so this webhook only sees objects carrying this file's label.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADOPT_ANNOTATION } from '../../api/common.ts';
import { createObject, deleteObject, mergePatch } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { KINDS } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import { readAuditLog } from '../../webhooks/audit-log.ts';
import { startWebhook, type RunningWebhook } from '../../webhooks/index.ts';
import { uniqueName } from '../env/names.ts';
import { testKubeConfig } from '../env/test-cluster.ts';
import { deleteQuietly, eventually, get, grantUser, refusal } from './tenant-fixtures.ts';

const TEST_LABEL = 'test.tenantgate.io/adoption';
const run = uniqueName('adopt');
const labels = { [TEST_LABEL]: run };
const tenant = uniqueName('brownco');
const ns = { legacy: uniqueName('legacy'), other: uniqueName('legacy-b'), system: uniqueName('tg-sys') };
const users = {
  admin: uniqueName('ns-admin'),
  status: uniqueName('status-writer'),
  creator: uniqueName('creator'),
};
const registrationName = uniqueName('tenantgate-adoption');

type Obj = KubeObject & { apiVersion: string; kind: string; metadata: { name: string } } & Record<
    string,
    unknown
  >;

const kc = testKubeConfig();
const admin = new KubeClient({ kubeConfig: kc, userAgent: 'tenantgate-tests' });
const as = (user: string) =>
  new KubeClient({ kubeConfig: kc, impersonate: { user, groups: ['system:authenticated'] } });
const clients = Object.fromEntries(Object.entries(users).map(([k, u]) => [k, as(u)])) as Record<
  keyof typeof users,
  KubeClient
>;
const auditLogPath = join(mkdtempSync(join(tmpdir(), 'tg-adoption-audit-')), 'admission.jsonl');
let webhook: RunningWebhook | undefined;

const nsRef = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const handOver = (name: string, to: string) => ({ metadata: { annotations: { [ADOPT_ANNOTATION]: to } } });

/** A ClusterRole `USER-ns` for `user` with `rules`. */
const grant = (user: string, rules: object[]) => grantUser(admin, user, { name: `${user}-ns`, rules });

const tenantObject = (namespaces: string[]): Obj => ({
  apiVersion: KINDS.Tenant.apiVersion,
  kind: 'Tenant',
  metadata: { name: tenant, labels },
  spec: { namespaces: namespaces.map((name) => ({ name })) },
});

beforeAll(async () => {
  for (const name of Object.values(ns))
    await createObject(admin, { ...nsRef(name), metadata: { name, labels } });
  await grant(users.admin, [
    {
      apiGroups: [''],
      resources: ['namespaces'],
      verbs: ['get', 'update', 'patch'],
      resourceNames: [ns.legacy],
    },
  ]);
  await grant(users.status, [
    { apiGroups: [''], resources: ['namespaces'], verbs: ['get'] },
    { apiGroups: [''], resources: ['namespaces/status'], verbs: ['update', 'patch'] },
  ]);
  await grant(users.creator, [{ apiGroups: [''], resources: ['namespaces'], verbs: ['create'] }]);
  webhook = await startWebhook({
    kubeConfig: kc,
    url: 'https://127.0.0.1:{port}/validate',
    registrationName,
    objectSelector: { matchLabels: labels },
    namespace: ns.system,
    auditLogPath,
  });
  // the webhook's inventory sees the namespaces before the test asks about them
  await eventually(() => webhook!.engine.inventory.namespaces[ns.other] !== undefined, {
    what: 'the inventory listing the namespaces',
  });
});

afterAll(async () => {
  await webhook?.stop();
  await deleteQuietly(admin, KINDS.ValidatingWebhookConfiguration, registrationName);
  for (const user of Object.values(users)) {
    const name = `${user}-ns`;
    for (const kind of ['ClusterRoleBinding', 'ClusterRole'])
      await deleteObject(admin, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind,
        metadata: { name },
      }).catch(() => {});
  }
  for (const name of Object.values(ns)) await deleteObject(admin, nsRef(name)).catch(() => {});
  await Promise.all([admin, ...Object.values(clients)].map((c) => c.close()));
});

describe('handing a namespace to a Tenant', () => {
  it('a Tenant may not list an existing namespace nobody handed to it', async () => {
    const message = await refusal(createObject(admin, tenantObject([ns.legacy]), { dryRun: true }));
    expect(message).toContain('[tenant-namespace-ownership]');
    expect(message).toContain(`annotation ${ADOPT_ANNOTATION}: ${tenant}`);
  });

  it('is refused from someone who could only write the namespace status, or only create namespaces', async () => {
    const byStatus = await refusal(
      mergePatch(clients.status, nsRef(ns.other), handOver(ns.other, tenant), { subresource: 'status' }),
    );
    expect(byStatus).toContain('[namespace-adoption]');
    expect(byStatus).toContain(`${users.status} may not`);
    expect((await get<Obj>(admin, KINDS.Namespace, ns.other))?.metadata?.annotations).toBeUndefined();

    const created = uniqueName('created');
    const byCreator = await refusal(
      createObject(clients.creator, {
        ...nsRef(created),
        metadata: { name: created, labels, annotations: { [ADOPT_ANNOTATION]: tenant } },
      }),
    );
    expect(byCreator).toContain('[namespace-adoption]');
    expect(byCreator).toContain(`only someone who may update namespace '${created}'`);
    // creating namespaces does not need the webhook's consent otherwise
    await createObject(clients.creator, { ...nsRef(created), metadata: { name: created, labels } });
    await deleteObject(admin, nsRef(created));

    const records = await readAuditLog(auditLogPath, { policy: 'namespace-adoption' });
    expect(records.map((r) => [r.user, r.action, r.allowed, r.tenant])).toEqual([
      [users.status, 'deny', false, tenant],
      [users.creator, 'deny', false, tenant],
    ]);
  });

  it('is admitted from someone who may update the namespace, recorded, and lets the Tenant list it', async () => {
    await mergePatch(clients.admin, nsRef(ns.legacy), handOver(ns.legacy, tenant));
    const handed = await get<Obj>(admin, KINDS.Namespace, ns.legacy);
    expect(handed?.metadata?.annotations?.[ADOPT_ANNOTATION]).toBe(tenant);

    const records = await readAuditLog(auditLogPath, { policy: 'namespace-adoption', user: users.admin });
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      action: 'allow',
      allowed: true,
      kind: 'Namespace',
      name: ns.legacy,
      tenant,
      violations: [{ policy: 'namespace-adoption', action: 'allow' }],
    });
    expect(records[0]!.violations[0]!.message).toContain(`handed to Tenant '${tenant}' by ${users.admin}`);

    // the policies see the hand-over: the Tenant may now list it
    await eventually(() => webhook!.engine.inventory.namespaces[ns.legacy]?.adopt_by === tenant, {
      what: 'the inventory seeing the annotation',
    });
    expect(await refusal(createObject(admin, tenantObject([ns.legacy]), { dryRun: true }))).toBeUndefined();
  });
});
