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
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registry } from '../../lib/metrics.ts';
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

async function watchStreamsOpened(): Promise<number> {
  return (
    (await registry.getSingleMetric('tenantgate_audit_watch_streams_total')!.get()).values[0]?.value ?? 0
  );
}

describe('audit query API authorised by the cluster', () => {
  const kc = testKubeConfig();
  let cluster: AuditCluster;
  let tokens: AuditCluster['tokens'];
  let dir: string;
  const get: AuditCluster['get'] = (...args) => cluster.get(...args);
  /** an AdmissionReview to the webhook, as the API server sends it: a route with another tenant's hostname */
  const refuse = (uid: string, namespace: string) =>
    cluster.review(uid, namespace, `shop.${namespace === ns.other ? acme : globex}.example.com`);
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

    it('--watch streams records stored later, only those the user may read, across reconnections', async () => {
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
        // the server ends each stream after 1.5 s: the CLI has resumed from its cursor at least once
        const opened = await watchStreamsOpened();
        await vi.waitFor(async () => expect(await watchStreamsOpened()).toBeGreaterThan(opened), {
          timeout: 15_000,
        });
        const now = new Date().toISOString();
        // stored by "another replica" straight into PostgreSQL, and a real refusal by this webhook
        await cluster.store.insert([
          sampleRecord({ uid: `${names.run}-late-other`, time: now, tenant: globex, namespace: ns.other }),
          sampleRecord({ uid: `${names.run}-late-mine`, time: now, tenant: acme, namespace: ns.web }),
        ]);
        expect(await refuse(`${names.run}-refused-mine`, ns.web)).toBe(false);
        await vi.waitFor(
          () => {
            expect(out).toContain(`${names.run}-late-mine`);
            expect(out).toContain(`${names.run}-refused-mine`);
          },
          { timeout: 15_000 },
        );
        expect(out).not.toContain(`${names.run}-late-other`);
        expect(out.trim().split('\n')).toHaveLength(6); // none twice
      } finally {
        child.kill('SIGTERM');
      }
    });
  });

  describe('watch (?watch=true)', () => {
    /** opens a watch; `events` fills as lines arrive; `ended` resolves when the server ends it */
    const openWatch = async (query: string, token: string) => {
      const res = await request(`${cluster.webhook.auditUrl}/audit/v1/records?watch=true${query}`, {
        dispatcher: cluster.agent,
        headers: { authorization: `Bearer ${token}` },
      });
      const events: { type: string; afterId?: number; object?: AuditRecord & { id: number } }[] = [];
      let buffered = '';
      const ended = (async () => {
        for await (const chunk of res.body) {
          buffered += (chunk as Buffer).toString();
          for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
            events.push(JSON.parse(buffered.slice(0, nl)) as (typeof events)[number]);
            buffered = buffered.slice(nl + 1);
          }
        }
      })();
      return { status: res.statusCode, type: res.headers['content-type'], events, ended };
    };
    const uids = (events: { object?: { uid: string } }[]) =>
      events.flatMap((e) => (e.object ? [e.object.uid] : []));

    it('streams a refusal made after it started, and resumes from its cursor after the server ended it', async () => {
      const w = await openWatch('', tokens.cluster);
      expect(w.status).toBe(200);
      expect(w.type).toContain('application/x-ndjson');
      await vi.waitFor(() => expect(w.events[0]?.type).toBe('BOOKMARK'));
      expect(await refuse(`${names.run}-watched`, ns.web)).toBe(false);
      await vi.waitFor(() => expect(uids(w.events)).toContain(`${names.run}-watched`), { timeout: 15_000 });
      const record = w.events.find((e) => e.object?.uid === `${names.run}-watched`)!.object!;
      expect(record).toMatchObject({ namespace: ns.web, tenant: acme, action: 'deny' });
      expect(record.violations.map((v) => v.policy)).toContain('route-hostnames');
      // the server ends the stream cleanly (its timeout, as on shutdown), with heartbeats meanwhile
      await w.ended;
      const cursor = Math.max(...w.events.map((e) => e.afterId ?? e.object?.id ?? 0));
      expect(w.events.filter((e) => e.type === 'BOOKMARK').length).toBeGreaterThan(1);
      // stored while nobody watched: the next watch from the cursor has it, and nothing from before
      await cluster.store.insert([
        sampleRecord({
          uid: `${names.run}-between`,
          time: new Date().toISOString(),
          tenant: acme,
          namespace: ns.api,
        }),
      ]);
      const again = await openWatch(`&afterId=${cursor}`, tokens.cluster);
      await vi.waitFor(() => expect(uids(again.events)).toEqual([`${names.run}-between`]), {
        timeout: 15_000,
      });
      await again.ended;
    });

    it("a tenant auditor's watch never carries another tenant's records", async () => {
      const w = await openWatch('', tokens.tenant);
      expect(w.status).toBe(200);
      await vi.waitFor(() => expect(w.events[0]?.type).toBe('BOOKMARK'));
      const now = new Date().toISOString();
      await cluster.store.insert([
        sampleRecord({ uid: `${names.run}-w-other`, time: now, tenant: globex, namespace: ns.other }),
        sampleRecord({ uid: `${names.run}-w-sibling`, time: now, tenant: acme, namespace: ns.api }),
        sampleRecord({
          uid: `${names.run}-w-tenant`,
          time: now,
          tenant: acme,
          namespace: undefined,
          kind: 'Tenant',
        }),
      ]);
      expect(await refuse(`${names.run}-w-other-refused`, ns.other)).toBe(false);
      expect(await refuse(`${names.run}-w-mine`, ns.web)).toBe(false);
      // the tenant's own refusal comes after the others were stored: once it is there, they were passed
      await vi.waitFor(() => expect(uids(w.events)).toContain(`${names.run}-w-mine`), { timeout: 15_000 });
      expect(uids(w.events).filter((u) => u.startsWith(`${names.run}-w-`))).toEqual([`${names.run}-w-mine`]);
      expect(w.events.every((e) => !e.object || e.object.namespace === ns.web)).toBe(true);
      await w.ended;
    });

    it('401 without a token, 403 without the right, 400 for paging', async () => {
      expect((await get('/audit/v1/records?watch=true')).status).toBe(401);
      expect((await get('/audit/v1/records?watch=true', 'not-a-token')).status).toBe(401);
      expect((await get('/audit/v1/records?watch=true', tokens.none)).status).toBe(403);
      const other = await get(`/audit/v1/records?watch=true&namespace=${ns.other}`, tokens.tenant);
      expect(other.status).toBe(403);
      expect((await get(`/audit/v1/records?watch=true&tenant=${globex}`, tokens.tenant)).status).toBe(403);
      expect((await get('/audit/v1/records?watch=maybe', tokens.cluster)).status).toBe(400);
      expect((await get('/audit/v1/records?watch=true&limit=5', tokens.cluster)).status).toBe(400);
    });
  });
});
