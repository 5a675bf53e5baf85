// Shared by the audit API and audit page tests: on the run's real API server, two Tenants (acme with
// namespaces web and api, globex with web), the shipped tenantgate:auditor ClusterRole, and three
// ServiceAccounts with tokens: a cluster auditor (ClusterRoleBinding), a tenant auditor (RoleBinding in
// acme's web namespace only) and one with no rights. A real PostgreSQL holds the seeded records, and an
// in-process webhook serves the audit API on a free port.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { expect, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { applyObject, createObject, deleteObject } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { projectRoot } from '../../kube/envtest/paths.ts';
import { KINDS } from '../../kube/resources.ts';
import type { AuditRecord } from '../../webhooks/audit-log.ts';
import { routeReview } from '../e2e/audit-fixtures.ts';
import { PostgresAuditStore } from '../../webhooks/audit/postgres-store.ts';
import { startWebhook, type RunningWebhook } from '../../webhooks/index.ts';
import { uniqueName } from '../env/names.ts';
import { startPostgres, type PostgresServer } from '../env/postgres.ts';
import { testKubeConfig } from '../env/test-cluster.ts';
import { deleteQuietly } from './tenant-fixtures.ts';

export interface AuditNames {
  run: string;
  acme: string;
  globex: string;
  ns: { web: string; api: string; other: string; system: string };
}

export interface AuditCluster {
  names: AuditNames;
  webhook: RunningWebhook;
  tokens: Record<'cluster' | 'tenant' | 'none', string>;
  admin: KubeClient;
  dir: string;
  /** the store the API reads (records inserted here appear as if shipped by a replica) */
  store: PostgresAuditStore;
  /** trusts the webhook's (and the audit API's) serving certificate */
  agent: Agent;
  /**
   * POSTs an AdmissionReview for an HTTPRoute in `namespace` with `hostname` to the webhook, as the API
   * server would; resolves to whether it was allowed (a refusal is in the audit trail once answered).
   */
  review(uid: string, namespace: string, hostname: string): Promise<boolean>;
  /** GET on the audit API (parsed JSON body) */
  get(
    path: string,
    token?: string,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

export function auditNames(prefix: string): AuditNames {
  const acme = uniqueName('acme');
  const globex = uniqueName('globex');
  return {
    run: uniqueName(prefix),
    acme,
    globex,
    ns: { web: `${acme}-web`, api: `${acme}-api`, other: `${globex}-web`, system: uniqueName('tg-audit') },
  };
}

export async function startAuditCluster(
  names: AuditNames,
  seed: (names: AuditNames) => AuditRecord[],
): Promise<AuditCluster> {
  const { ns, acme, globex } = names;
  const kc = testKubeConfig();
  const admin = new KubeClient({ kubeConfig: kc, userAgent: 'tenantgate-tests' });
  const dir = mkdtempSync(join(tmpdir(), 'tg-audit-'));
  const labels = { 'test.tenantgate.io/audit': names.run };
  const pg: PostgresServer = await startPostgres();
  let webhook: RunningWebhook | undefined;
  let agent: Agent | undefined;
  const store = new PostgresAuditStore({ dsn: pg.dsn });
  const stop = async () => {
    await webhook?.stop();
    await store.close();
    await agent?.close();
    await pg.stop();
    for (const name of [acme, globex]) await deleteQuietly(admin, KINDS.Tenant, name);
    await deleteObject(admin, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: `${ns.system}-cluster-auditor` },
    }).catch(() => {});
    await admin.close();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
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
    const tokens = { cluster: '', tenant: '', none: '' };
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

    await store.migrate();
    await store.insert(seed(names));

    webhook = await startWebhook({
      kubeConfig: kc,
      url: 'https://127.0.0.1:{port}/validate',
      registrationName: uniqueName('tenantgate-audit'),
      objectSelector: { matchLabels: { 'test.tenantgate.io/never': 'x' } },
      namespace: ns.system,
      policyConfig: { enforcement: { default: 'deny', policies: {} }, bundles: [] },
      audit: {
        store: { backend: 'postgres', dsn: pg.dsn, spoolPath: join(dir, 'spool') },
        apiAddress: '127.0.0.1:0',
        // watch streams end after 1.5 s, so the tests see clients resume from their cursor
        watch: { pollMs: 100, heartbeatMs: 500, timeoutMs: 1500 },
      },
    });
    agent = new Agent({ connect: { ca: webhook.caBundlePem } });
    const running = webhook;
    const get = async (path: string, token?: string, headers: Record<string, string> = {}) => {
      const res = await request(`${running.auditUrl}${path}`, {
        dispatcher: agent,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
      });
      return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
    };
    // the tenant auditor's namespaces come from the Tenants the webhook has seen
    await vi.waitFor(
      async () => expect((await get('/audit/v1/whoami', tokens.tenant)).body.namespaces).toEqual([ns.web]),
      { timeout: 20_000, interval: 200 },
    );
    const review = async (uid: string, namespace: string, hostname: string) => {
      const res = await request(`https://127.0.0.1:${running.port}/validate`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(routeReview(uid, namespace, hostname)),
      });
      const body = (await res.body.json()) as { response: { uid: string; allowed: boolean } };
      expect(res.statusCode).toBe(200);
      expect(body.response.uid).toBe(uid);
      return body.response.allowed;
    };
    return { names, webhook, tokens, admin, dir, store, agent, review, get, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
