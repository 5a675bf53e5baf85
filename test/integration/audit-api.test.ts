// The audit query API against the run's real API server and a real PostgreSQL: who may read which
// records is decided by TokenReview + SubjectAccessReview. A cluster auditor (ClusterRoleBinding to
// tenantgate:auditor) reads everything; a tenant auditor (RoleBinding in one tenant namespace) reads that
// namespace only, never cluster-scoped records; a ServiceAccount without rights gets 403, no token 401.
// The same matrix through `tenantgate audit` (client certificate of the admin kubeconfig, a token
// kubeconfig, and --as impersonation, refused to those who may not impersonate).
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { applyObject, createObject, deleteObject } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { projectRoot } from '../../kube/envtest/paths.ts';
import { KINDS } from '../../kube/resources.ts';
import type { AuditRecord } from '../../webhooks/audit-log.ts';
import { PostgresAuditStore } from '../../webhooks/audit/postgres-store.ts';
import { startWebhook, type RunningWebhook } from '../../webhooks/index.ts';
import { sampleRecord } from '../e2e/audit-fixtures.ts';
import { uniqueName } from '../env/names.ts';
import { startPostgres, type PostgresServer } from '../env/postgres.ts';
import { testKubeConfig, testKubeconfigPath } from '../env/test-cluster.ts';

const exec = promisify(execFile);
const labels = { 'test.tenantgate.io/audit-api': uniqueName('run') };
const acme = uniqueName('acme');
const globex = uniqueName('globex');
const ns = { web: `${acme}-web`, api: `${acme}-api`, other: `${globex}-web`, system: uniqueName('tg-audit') };

/** acme-web: 4 records, acme-api: 2, globex-web: 3, cluster-scoped Tenant records: 2 */
function records(): AuditRecord[] {
  const at = (i: number) => new Date(Date.now() - (20 - i) * 60_000).toISOString();
  const make = (i: number, over: Partial<AuditRecord>) =>
    sampleRecord({ uid: `${labels['test.tenantgate.io/audit-api']}-${i}`, time: at(i), ...over });
  return [
    ...[0, 1, 2, 3].map((i) => make(i, { tenant: acme, namespace: ns.web, name: `r${i}` })),
    ...[4, 5].map((i) => make(i, { tenant: acme, namespace: ns.api, name: `r${i}` })),
    ...[6, 7, 8].map((i) => make(i, { tenant: globex, namespace: ns.other, name: `r${i}`, user: 'mallory' })),
    make(9, { tenant: acme, namespace: undefined, kind: 'Tenant', name: acme }),
    make(10, { tenant: globex, namespace: undefined, kind: 'Tenant', name: globex }),
  ];
}

describe('audit query API authorised by the cluster', () => {
  const kc = testKubeConfig();
  const admin = new KubeClient({ kubeConfig: kc, userAgent: 'tenantgate-tests' });
  let pg: PostgresServer;
  let webhook: RunningWebhook;
  let agent: Agent;
  const tokens: Record<'cluster' | 'tenant' | 'none', string> = { cluster: '', tenant: '', none: '' };
  let dir: string;

  const get = async (path: string, token?: string, headers: Record<string, string> = {}) => {
    const res = await request(`${webhook.auditUrl}${path}`, {
      dispatcher: agent,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });
    return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
  };
  const uidsOf = (body: Record<string, unknown>) =>
    (body.items as AuditRecord[]).map((r) => r.uid.split('-').at(-1)).sort((a, b) => Number(a) - Number(b));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tg-audit-api-'));
    pg = await startPostgres();
    for (const name of Object.values(ns))
      await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    for (const [name, namespaces] of [
      [acme, [ns.web, ns.api]],
      [globex, [ns.other]],
    ] as const)
      await createObject(admin, {
        apiVersion: KINDS.Tenant.apiVersion,
        kind: 'Tenant',
        metadata: { name, labels },
        spec: { namespaces: namespaces.map((n) => ({ name: n })), hostnames: [`${name}.example.com`] },
      });
    // the shipped ClusterRole, and the endpoint ConfigMap's reader Role, as config/audit deploys them
    const shipped = parseAllDocuments(readFileSync(join(projectRoot, 'config/audit/rbac.yaml'), 'utf8')).map(
      (d) => d.toJS() as { kind: string; metadata: { name: string; namespace?: string } },
    );
    for (const obj of shipped.filter(
      (d) =>
        d.metadata.name === 'tenantgate:auditor' || d.metadata.name === 'tenantgate-audit-endpoint-reader',
    )) {
      if (obj.metadata.namespace) obj.metadata.namespace = ns.system;
      await applyObject(admin, obj as never, { fieldManager: 'tenantgate-tests' });
    }
    const roleRef = {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: 'ClusterRole',
      name: 'tenantgate:auditor',
    };
    const sa = (name: string) => ({ kind: 'ServiceAccount', name, namespace: ns.system });
    for (const name of ['cluster-auditor', 'tenant-auditor', 'nobody'])
      await createObject(admin, {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name, namespace: ns.system },
      });
    await createObject(admin, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${ns.system}-cluster-auditor`, labels },
      roleRef,
      subjects: [sa('cluster-auditor')],
    });
    await createObject(admin, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'tenant-auditor', namespace: ns.web },
      roleRef,
      subjects: [sa('tenant-auditor')],
    });
    for (const [key, name] of [
      ['cluster', 'cluster-auditor'],
      ['tenant', 'tenant-auditor'],
      ['none', 'nobody'],
    ] as const) {
      const tr = await admin.request<{ status: { token: string } }>({
        method: 'POST',
        path: `/api/v1/namespaces/${ns.system}/serviceaccounts/${name}/token`,
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: 3600 },
        },
      });
      tokens[key] = tr.status.token;
    }

    const seed = new PostgresAuditStore({ dsn: pg.dsn });
    await seed.migrate();
    await seed.insert(records());
    await seed.close();

    webhook = await startWebhook({
      kubeConfig: kc,
      url: 'https://127.0.0.1:{port}/validate',
      registrationName: uniqueName('tenantgate-audit-api'),
      objectSelector: { matchLabels: { 'test.tenantgate.io/never': 'x' } },
      namespace: ns.system,
      policyConfig: { enforcement: { default: 'deny', policies: {} }, bundles: [] },
      audit: {
        store: { backend: 'postgres', dsn: pg.dsn, spoolPath: join(dir, 'spool.db') },
        apiAddress: '127.0.0.1:0',
      },
    });
    agent = new Agent({ connect: { ca: webhook.caBundlePem } });
    // the tenant auditor's namespaces come from the Tenants the webhook has seen
    await vi.waitFor(
      async () => expect((await get('/audit/v1/whoami', tokens.tenant)).body.namespaces).toEqual([ns.web]),
      { timeout: 20_000, interval: 200 },
    );
  });

  afterAll(async () => {
    await webhook?.stop();
    await agent?.close();
    await pg?.stop();
    for (const name of [acme, globex])
      await deleteObject(admin, {
        apiVersion: KINDS.Tenant.apiVersion,
        kind: 'Tenant',
        metadata: { name },
      }).catch(() => {});
    await deleteObject(admin, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${ns.system}-cluster-auditor` },
    }).catch(() => {});
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a cluster auditor reads every record, cluster-scoped ones included', async () => {
    const res = await get('/audit/v1/records', tokens.cluster);
    expect(res.status).toBe(200);
    expect(uidsOf(res.body)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    expect((await get('/audit/v1/whoami', tokens.cluster)).body).toMatchObject({
      user: `system:serviceaccount:${ns.system}:cluster-auditor`,
      scope: 'cluster',
    });
    expect(uidsOf((await get(`/audit/v1/records?kind=Tenant`, tokens.cluster)).body)).toEqual(['9', '10']);
    expect(
      uidsOf((await get(`/audit/v1/records?tenant=${globex}&user=mallory`, tokens.cluster)).body),
    ).toEqual(['6', '7', '8']);
  });

  it('a tenant auditor reads its namespace only: not the sibling namespace, not another tenant, not Tenants', async () => {
    expect(uidsOf((await get('/audit/v1/records', tokens.tenant)).body)).toEqual(['0', '1', '2', '3']);
    expect(uidsOf((await get(`/audit/v1/records?tenant=${acme}`, tokens.tenant)).body)).toEqual([
      '0',
      '1',
      '2',
      '3',
    ]);
    expect((await get(`/audit/v1/records?kind=Tenant`, tokens.tenant)).body.items).toEqual([]);
    const other = await get(`/audit/v1/records?namespace=${ns.other}`, tokens.tenant);
    expect(other.status).toBe(403);
    expect(other.body.message).toContain(`in namespace '${ns.other}'`);
    expect((await get(`/audit/v1/records?tenant=${globex}`, tokens.tenant)).status).toBe(403);
    const chart = await get('/audit/v1/histogram?by=tenant&bucket=86400', tokens.tenant);
    expect((chart.body.buckets as { key: string; count: number }[]).reduce((n, b) => n + b.count, 0)).toBe(4);
  });

  it('no right: 403; no or a bad token: 401', async () => {
    const none = await get('/audit/v1/records', tokens.none);
    expect(none.status).toBe(403);
    expect(none.body.message).toContain('tenantgate:auditor');
    expect((await get('/audit/v1/records')).status).toBe(401);
    expect((await get('/audit/v1/records', 'not-a-token')).status).toBe(401);
    expect((await get('/audit/v1/records?action=explode', tokens.cluster)).status).toBe(400);
  });

  it('honours impersonation only for callers who may impersonate', async () => {
    const asTenant = await get('/audit/v1/records', tokens.cluster, {
      'impersonate-user': `system:serviceaccount:${ns.system}:tenant-auditor`,
    });
    expect(asTenant.status).toBe(403);
    expect(asTenant.body.message).toContain('may not impersonate');
  });

  describe('through `tenantgate audit`', () => {
    const cli = async (args: string[], kubeconfig = testKubeconfigPath()) => {
      try {
        const { stdout } = await exec(
          join(projectRoot, 'node_modules', '.bin', 'node'),
          [join(projectRoot, 'cmd', 'tenantgate.ts'), 'audit', '--kubeconfig', kubeconfig, ...args],
          { env: { ...process.env, TENANTGATE_NAMESPACE: ns.system, TENANTGATE_AUDIT_LOG: '' } },
        );
        return { code: 0, out: stdout };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, out: e.stdout + e.stderr };
      }
    };
    const names = (out: string) =>
      (JSON.parse(out) as AuditRecord[])
        .filter((r) => r.uid.startsWith(labels['test.tenantgate.io/audit-api']))
        .map((r) => r.uid.split('-').at(-1));

    it('the admin (a client certificate) reads everything; --as narrows to what that user may read', async () => {
      const all = await cli(['-o', 'json', '--since', '1h']);
      expect(all.code).toBe(0);
      expect(names(all.out)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
      const asTenant = await cli(['-o', 'json', '--as', `system:serviceaccount:${ns.system}:tenant-auditor`]);
      expect(asTenant.code).toBe(0);
      expect(names(asTenant.out)).toEqual(['0', '1', '2', '3']);
      const asNobody = await cli(['--as', `system:serviceaccount:${ns.system}:nobody`]);
      expect(asNobody.code).toBe(1);
      expect(asNobody.out).toMatch(/403.*may not list admissiondenials/);
      const table = await cli([
        '--as',
        `system:serviceaccount:${ns.system}:tenant-auditor`,
        '--namespace',
        ns.web,
      ]);
      expect(table.out.split('\n')[0]).toMatch(/^TIME\s+ACTION\s+USER\s+TENANT/);
      expect(table.out.trimEnd().split('\n')).toHaveLength(5);
    });

    it('a token kubeconfig reads as that ServiceAccount and may not impersonate', async () => {
      const server = kc.getCurrentCluster()!.server;
      const file = join(dir, 'tenant-auditor.kubeconfig');
      writeFileSync(
        file,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [
            { name: 'c', cluster: { server, 'certificate-authority-data': kc.getCurrentCluster()!.caData } },
          ],
          users: [{ name: 'u', user: { token: tokens.tenant } }],
          contexts: [{ name: 'c', context: { cluster: 'c', user: 'u' } }],
          'current-context': 'c',
        }),
      );
      const mine = await cli(['-o', 'json'], file);
      expect(mine.code, mine.out).toBe(0);
      expect(names(mine.out)).toEqual(['0', '1', '2', '3']);
      const escalate = await cli(['--as', `system:serviceaccount:${ns.system}:cluster-auditor`], file);
      expect(escalate.code).toBe(1);
      expect(escalate.out).toContain('may not impersonate');
    });
  });
});
