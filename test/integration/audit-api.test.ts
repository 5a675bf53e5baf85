// The audit query API against the run's real API server and a real PostgreSQL: who may read which
// records is decided by TokenReview + SubjectAccessReview. A cluster auditor (ClusterRoleBinding to
// tenantgate:auditor) reads everything; a tenant auditor (RoleBinding in one tenant namespace) reads that
// namespace only, never cluster-scoped records; a ServiceAccount without rights gets 403, no token 401.
// The same matrix through `tenantgate audit` (client certificate of the admin kubeconfig, a token
// kubeconfig, and --as impersonation, refused to those who may not impersonate).
import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { projectRoot } from '../../kube/envtest/paths.ts';
import type { AuditRecord } from '../../webhooks/audit-log.ts';
import { sampleRecord } from '../e2e/audit-fixtures.ts';
import { testKubeConfig, testKubeconfigPath } from '../env/test-cluster.ts';
import {
  auditNames,
  startAuditCluster,
  type AuditCluster,
  type AuditNames,
} from './audit-cluster-fixture.ts';

const exec = promisify(execFile);
const names = auditNames('audit-api');
const { acme, globex, ns } = names;

/** acme-web: 4 records, acme-api: 2, globex-web: 3, cluster-scoped Tenant records: 2 */
function records({ run }: AuditNames): AuditRecord[] {
  const at = (i: number) => new Date(Date.now() - (20 - i) * 60_000).toISOString();
  const make = (i: number, over: Partial<AuditRecord>) =>
    sampleRecord({ uid: `${run}-${i}`, time: at(i), ...over });
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
  let cluster: AuditCluster;
  let tokens: AuditCluster['tokens'];
  let dir: string;
  const get: AuditCluster['get'] = (...args) => cluster.get(...args);
  const uidsOf = (body: Record<string, unknown>) =>
    (body.items as AuditRecord[]).map((r) => r.uid.split('-').at(-1)).sort((a, b) => Number(a) - Number(b));

  beforeAll(async () => {
    cluster = await startAuditCluster(names, records);
    ({ tokens, dir } = cluster);
  });
  afterAll(() => cluster?.stop());

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
    const uidsIn = (out: string) =>
      (JSON.parse(out) as AuditRecord[])
        .filter((r) => r.uid.startsWith(names.run))
        .map((r) => r.uid.split('-').at(-1));

    it('the admin (a client certificate) reads everything; --as narrows to what that user may read', async () => {
      const all = await cli(['-o', 'json', '--since', '1h']);
      expect(all.code).toBe(0);
      expect(uidsIn(all.out)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
      const asTenant = await cli(['-o', 'json', '--as', `system:serviceaccount:${ns.system}:tenant-auditor`]);
      expect(asTenant.code).toBe(0);
      expect(uidsIn(asTenant.out)).toEqual(['0', '1', '2', '3']);
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
      expect(uidsIn(mine.out)).toEqual(['0', '1', '2', '3']);
      const escalate = await cli(['--as', `system:serviceaccount:${ns.system}:cluster-auditor`], file);
      expect(escalate.code).toBe(1);
      expect(escalate.out).toContain('may not impersonate');
    });

    it('--watch prints records stored later, only those the user may read', async () => {
      const child = spawn(
        join(projectRoot, 'node_modules', '.bin', 'node'),
        [
          join(projectRoot, 'cmd', 'tenantgate.ts'),
          'audit',
          '--kubeconfig',
          testKubeconfigPath(),
          '--watch',
          '-o',
          'json',
          '--as',
          `system:serviceaccount:${ns.system}:tenant-auditor`,
        ],
        { env: { ...process.env, TENANTGATE_NAMESPACE: ns.system, TENANTGATE_AUDIT_LOG: '' } },
      );
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      try {
        // the four records it may read, one JSON object per line
        await vi.waitFor(() => expect(out.trim().split('\n')).toHaveLength(4), { timeout: 15_000 });
        const now = new Date().toISOString();
        await cluster.store.insert([
          sampleRecord({ uid: `${names.run}-late-other`, time: now, tenant: globex, namespace: ns.other }),
          sampleRecord({ uid: `${names.run}-late-mine`, time: now, tenant: acme, namespace: ns.web }),
        ]);
        await vi.waitFor(() => expect(out).toContain(`${names.run}-late-mine`), { timeout: 15_000 });
        expect(out).not.toContain(`${names.run}-late-other`);
        expect(out.trim().split('\n')).toHaveLength(5);
      } finally {
        child.kill('SIGTERM');
      }
    });
  });
});
