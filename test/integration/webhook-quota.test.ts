// Exact Tenant route limits with two real webhook processes (`tenantgate run --components webhook`, twice)
// answering the run's real API server: two ValidatingWebhookConfigurations split the tenant's four
// namespaces between process A and process B, so both reserve slots in the same ledger at once. A burst of
// 100 concurrent HTTPRoute/GRPCRoute CREATEs by the tenant owner (impersonated) over all four namespaces
// leaves exactly spec.limits.maxRoutes routes, round after round; a delete frees a slot for the other
// process; a dry run reserves nothing; every refusal names route-count and is in the audit trail.
//
// Integration files share one API server: the registrations only see objects carrying this file's label.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObject, createObject, deleteObject } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { freePorts } from '../../kube/envtest/ports.ts';
import { KINDS } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import type { AuditRecord } from '../../webhooks/audit-log.ts';
import { ephemeralCertificates } from '../../webhooks/certs.ts';
import { ledgerName } from '../../webhooks/quota-store.ts';
import { validatingWebhookConfiguration } from '../../webhooks/registration.ts';
import { spawnOperatorProcess } from '../env/operator-process.ts';
import { testKubeConfig, testKubeconfigPath } from '../env/test-cluster.ts';
import { deleteQuietly, eventually, grantUser, refusal, uniqueName } from './tenant-fixtures.ts';

const TEST_LABEL = 'test.tenantgate.io/quota';
const run = uniqueName('quota');
const labels = { [TEST_LABEL]: run };
const owner = uniqueName('owner');
const tenant = uniqueName('acme');
const host = `${tenant}.example.com`;
const MAX_ROUTES = 10;
const BURST = 100;
/** process A answers for the first two, B for the last two */
const namespaces = ['a1', 'a2', 'b1', 'b2'].map((s) => `${tenant}-${s}`);
const systemNs = uniqueName('tg-quota-system');
const ROUTE_KINDS = [KINDS.HTTPRoute, KINDS.GRPCRoute] as const;

type Obj = KubeObject & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string };
} & Record<string, unknown>;

function route(i: number, name = `r${i}`): Obj {
  const kind = ROUTE_KINDS[i % 2]!;
  return {
    apiVersion: kind.apiVersion,
    kind: kind.kind,
    metadata: { name, namespace: namespaces[i % namespaces.length]!, labels },
    spec: { hostnames: [`${name}.${host}`] },
  };
}

interface WebhookProcess {
  name: string;
  port: number;
  auditLog: string;
  metrics(): Promise<string>;
  output(): string;
  stop(): Promise<void>;
}

async function startWebhookProcess(name: string, certDir: string, stateDir: string): Promise<WebhookProcess> {
  const [port] = await freePorts(1);
  const auditLog = join(stateDir, `audit-${name}.jsonl`);
  const { proc, adminAddress } = await spawnOperatorProcess({
    kubeconfigPath: testKubeconfigPath(),
    components: 'webhook',
    env: {
      TENANTGATE_NAMESPACE: systemNs,
      TENANTGATE_WEBHOOK_ADDRESS: `127.0.0.1:${port}`,
      TENANTGATE_WEBHOOK_CERT_DIR: certDir,
      TENANTGATE_AUDIT_LOG: auditLog,
      TENANTGATE_LOG_LEVEL: 'info',
      // the longest deadline the registration's 5 s allows (ledger timeout 3.5 s): a burst of 100 on a
      // loaded machine must meet the limit, not the fail-closed timeout, for the refusals to be exact
      TENANTGATE_WEBHOOK_DEADLINE_MS: '4500',
    },
    stderr: 'pipe',
  });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const p: WebhookProcess = {
    name,
    port: port!,
    auditLog,
    metrics: async () =>
      (await fetch(`http://${adminAddress}/metrics`, { signal: AbortSignal.timeout(2_000) })).text(),
    output: () => stderr,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
  await eventually(
    async () => (await fetch(`http://${adminAddress}/readyz`, { signal: AbortSignal.timeout(2_000) })).ok,
    { what: `webhook ${name} ready`, timeoutMs: 60_000 },
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${stderr}`);
  });
  return p;
}

/** The sum of a counter's samples whose labels match. */
function counter(metrics: string, name: string, match: Record<string, string> = {}): number {
  let sum = 0;
  for (const m of metrics.matchAll(new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm'))) {
    const labelText = m[1] ?? '';
    if (Object.entries(match).every(([k, v]) => labelText.includes(`${k}="${v}"`))) sum += Number(m[2]);
  }
  return sum;
}

/** A gauge's value for exactly these labels, or undefined when the sample is not there. */
function gauge(metrics: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const m = metrics.match(new RegExp(`^${name}\\{${want}\\} (\\S+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
}

describe('exact route limits with two webhook processes', () => {
  const kc = testKubeConfig();
  const admin = new KubeClient({ kubeConfig: kc, userAgent: 'tenantgate-tests', maxConnections: 32 });
  // one connection per concurrent CREATE: the burst really is concurrent at the API server
  const asOwner = new KubeClient({
    kubeConfig: kc,
    userAgent: 'tenantgate-tests',
    impersonate: { user: owner, groups: ['system:authenticated'] },
    maxConnections: BURST,
  });
  const stateDir = mkdtempSync(join(tmpdir(), 'tg-quota-'));
  const registrations = [`${run}-a`, `${run}-b`];
  const procs: WebhookProcess[] = [];
  const measured: string[] = [];

  async function routes(): Promise<Obj[]> {
    const out: Obj[] = [];
    for (const kind of ROUTE_KINDS)
      for (const namespace of namespaces)
        out.push(
          ...(await admin.list<Obj>(kind, { namespace, labelSelector: `${TEST_LABEL}=${run}` })).items,
        );
    return out;
  }

  /**
   * Deletes the tenant's routes and waits until both processes count none: the API server showing them
   * gone says nothing about the webhooks' informers, which would still count the old routes (and refuse a
   * burst that the limit allows) until their watches deliver the deletions.
   */
  async function deleteAllRoutes(): Promise<void> {
    await Promise.all((await routes()).map((r) => deleteObject(admin, r)));
    await eventually(async () => (await routes()).length === 0, { what: 'every route gone' });
    for (const p of procs)
      await eventually(async () => gauge(await p.metrics(), 'tenantgate_tenant_routes', { tenant }) === 0, {
        what: `webhook ${p.name} counting no routes of ${tenant}`,
      });
  }

  async function ledgerVersion(): Promise<string | undefined> {
    return (await admin.get(KINDS.ConfigMap, { name: ledgerName(tenant), namespace: systemNs }))?.metadata
      ?.resourceVersion;
  }

  beforeAll(async () => {
    for (const name of [...namespaces, systemNs])
      await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    await createObject(admin, {
      apiVersion: KINDS.Tenant.apiVersion,
      kind: 'Tenant',
      metadata: { name: tenant, labels },
      spec: {
        owners: [{ kind: 'User', name: owner }],
        namespaces: namespaces.map((name) => ({ name })),
        hostnames: [host, `*.${host}`],
        limits: { maxRoutes: MAX_ROUTES },
      },
    });
    // the owner may write routes (no operator runs here to grant it): admission comes after RBAC
    for (const namespace of namespaces) {
      await grantUser(admin, owner, {
        name: 'routes',
        namespace,
        rules: [
          { apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes', 'grpcroutes'], verbs: ['*'] },
        ],
      });
    }

    // one serving certificate for both processes (cert-manager style: a mounted directory)
    const certs = await ephemeralCertificates(['127.0.0.1', 'localhost']);
    const certDir = mkdtempSync(join(tmpdir(), 'tg-quota-certs-'));
    writeFileSync(join(certDir, 'tls.crt'), certs.certPem);
    writeFileSync(join(certDir, 'tls.key'), certs.keyPem);
    writeFileSync(join(certDir, 'ca.crt'), certs.caBundlePem);
    procs.push(...(await Promise.all(['A', 'B'].map((n) => startWebhookProcess(n, certDir, stateDir)))));

    for (const [i, proc] of procs.entries()) {
      const registration = validatingWebhookConfiguration({
        clientConfig: { url: `https://127.0.0.1:${proc.port}/validate` },
        caBundlePem: certs.caBundlePem,
        operatorNamespace: systemNs,
        name: registrations[i],
        objectSelector: { matchLabels: labels },
      });
      registration.webhooks[0]!.namespaceSelector = {
        matchExpressions: [
          { key: 'kubernetes.io/metadata.name', operator: 'In', values: namespaces.slice(i * 2, i * 2 + 2) },
        ],
      };
      await applyObject(admin, registration);
    }
    // the API server picks registrations up from its own watch, and the processes' informers must know the
    // tenant: wait until each namespace gets a tenantgate answer
    for (const namespace of namespaces) {
      await eventually(
        async () => {
          const probe: Obj = {
            ...route(0, 'probe'),
            metadata: { name: 'probe', namespace, labels },
            spec: { hostnames: ['probe.example.org'] },
          };
          const message = await refusal(createObject(asOwner, probe, { dryRun: true }));
          return message?.includes('[route-hostnames]');
        },
        { what: `the webhook answering in ${namespace}`, timeoutMs: 30_000 },
      );
    }
  });

  afterAll(async () => {
    for (const line of measured) process.stdout.write(`[quota] ${line}\n`);
    await Promise.all(procs.map((p) => p.stop()));
    for (const name of registrations) await deleteQuietly(admin, KINDS.ValidatingWebhookConfiguration, name);
    await deleteQuietly(admin, KINDS.Tenant, tenant);
    for (const name of [...namespaces, systemNs]) await deleteQuietly(admin, KINDS.Namespace, name);
    await asOwner.close();
    await admin.close();
  });

  it(`admits exactly maxRoutes of ${BURST} concurrent creates over four namespaces and two processes, round after round`, async () => {
    const before = await Promise.all(procs.map((p) => p.metrics()));
    for (let round = 1; round <= 3; round++) {
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: BURST }, (_, i) => refusal(createObject(asOwner, route(i, `r${round}-${i}`)))),
      );
      const seconds = (performance.now() - started) / 1000;
      const refused = results.filter((m): m is string => m !== undefined);
      const existing = await routes();
      measured.push(
        `round ${round}: ${BURST} concurrent creates -> ${existing.length} routes (limit ${MAX_ROUTES}), ` +
          `${refused.length} refused, in ${seconds.toFixed(2)} s`,
      );
      expect(existing).toHaveLength(MAX_ROUTES);
      expect(BURST - refused.length).toBe(MAX_ROUTES);
      // every refusal is the limit's, worded as the policy words it
      for (const message of refused)
        expect(message).toMatch(
          new RegExp(
            `^admission webhook "validate\\.tenantgate\\.io" denied the request: (HTTPRoute|GRPCRoute) ${tenant}-\\w+/r${round}-\\d+ is refused by tenantgate policies:\\n\\[route-count\\] tenant '${tenant}' already has \\d+ routes \\(HTTPRoutes \\+ GRPCRoutes\\)(, \\d+ of them being created right now,)? and its limit is ${MAX_ROUTES} — delete a route it no longer needs, or ask the platform team to raise spec\\.limits\\.maxRoutes of Tenant ${tenant}$`,
          ),
        );
      if (round < 3) await deleteAllRoutes();
    }
    const after = await Promise.all(procs.map((p) => p.metrics()));
    const delta = (i: number, name: string, match: Record<string, string> = {}) =>
      counter(after[i]!, name, match) - counter(before[i]!, name, match);
    for (const [i, p] of procs.entries()) {
      // each process answered half of every burst (its two namespaces)
      expect(delta(i, 'tenantgate_admission_reviews_total')).toBeGreaterThanOrEqual((3 * BURST) / 2);
      measured.push(
        `process ${p.name}: reserved ${delta(i, 'tenantgate_quota_claims_total', { result: 'reserved' })}, ` +
          `over the limit ${delta(i, 'tenantgate_quota_claims_total', { result: 'over' })}, ` +
          `ledger writes ${delta(i, 'tenantgate_quota_ledger_writes_total', { result: 'written' })}, ` +
          `conflicts ${delta(i, 'tenantgate_quota_ledger_writes_total', { result: 'conflict' })}, ` +
          `rego route-count denials ${delta(i, 'tenantgate_admission_decisions_total', { policy: 'route-count' }) - delta(i, 'tenantgate_quota_claims_total', { result: 'over' })}`,
      );
    }
    // one reservation per route that exists, between the two processes
    const reserved = [0, 1].reduce(
      (n, i) => n + delta(i, 'tenantgate_quota_claims_total', { result: 'reserved' }),
      0,
    );
    expect(reserved).toBe(3 * MAX_ROUTES);
    expect([0, 1].every((i) => delta(i, 'tenantgate_quota_claims_total', { result: 'error' }) === 0)).toBe(
      true,
    );
  });

  it('records every refusal in the audit trail of the process that made it', () => {
    const records = procs.flatMap((p) =>
      readFileSync(p.auditLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as AuditRecord)
        .filter((r) => r.tenant === tenant && !r.dryRun),
    );
    const denials = records.filter(
      (r) => r.action === 'deny' && r.violations.some((v) => v.policy === 'route-count'),
    );
    expect(denials).toHaveLength(3 * (BURST - MAX_ROUTES));
    expect(denials.every((r) => r.user === owner)).toBe(true);
  });

  it('lets a dry run through while a slot is free without reserving it, and refuses it at the limit', async () => {
    // a known layout from here on: route i in namespace i % 4 (A: r0, r1, r4, r5, r8, r9; B: the others)
    await deleteAllRoutes();
    for (let i = 0; i < MAX_ROUTES; i++) await createObject(asOwner, route(i));
    const existing = await routes();
    expect(existing).toHaveLength(MAX_ROUTES);
    // at the limit: refused, as a real CREATE would be
    const atLimit = await refusal(createObject(asOwner, route(2, 'dry-full'), { dryRun: true }));
    expect(atLimit).toContain('[route-count]');

    // delete a route of process A's namespace; the dry run goes to process B
    await deleteObject(admin, route(0));
    const version = await ledgerVersion();
    await eventually(
      async () => (await refusal(createObject(asOwner, route(2, 'dry-1'), { dryRun: true }))) === undefined,
      {
        what: 'the freed slot visible to process B',
      },
    );
    for (const i of [2, 3, 6, 7])
      expect(
        await refusal(createObject(asOwner, route(i, `dry-again-${i}`), { dryRun: true })),
      ).toBeUndefined();
    // nothing was reserved: the ledger was not written
    expect(await ledgerVersion()).toBe(version);
    expect(await routes()).toHaveLength(MAX_ROUTES - 1);
  });

  it('frees the slot of a deleted route: the other process admits one more, then none', async () => {
    // the slot freed in the previous test is taken by a real CREATE in process B's namespace
    expect(await refusal(createObject(asOwner, route(2, 'after-delete')))).toBeUndefined();
    expect(await routes()).toHaveLength(MAX_ROUTES);
    const message = await refusal(createObject(asOwner, route(3, 'one-too-many')));
    expect(message).toContain(`[route-count] tenant '${tenant}' already has ${MAX_ROUTES} routes`);

    // and the other way round: a route of B's namespace deleted, process A admits one more
    await deleteObject(admin, route(3));
    await eventually(
      async () => (await refusal(createObject(asOwner, route(0, 'after-delete-a')))) === undefined,
      {
        what: 'process A admitting into the freed slot',
      },
    );
    expect(await routes()).toHaveLength(MAX_ROUTES);
  });

  it('fails closed, naming the ledger, when the ledger cannot be written', async () => {
    // the ledger's namespace is being deleted (an operator namespace deleted by mistake): no new objects
    // can be made in it, the ledger included (with no controller-manager here, it stays Terminating)
    await deleteObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: systemNs } });
    await deleteObject(admin, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: ledgerName(tenant), namespace: systemNs },
    });
    await deleteObject(admin, route(1));
    await eventually(
      async () => {
        const message = await refusal(createObject(asOwner, route(1, 'no-ledger')));
        return message?.includes('could not reserve') ? message : undefined;
      },
      { what: 'a refusal for want of a ledger' },
    ).then((message) =>
      expect(message).toMatch(
        new RegExp(
          `^admission webhook "validate\\.tenantgate\\.io" denied the request: \\[route-count\\] tenantgate could not reserve a slot under spec\\.limits\\.maxRoutes of Tenant ${tenant} \\(ConfigMap ${systemNs}/tenantgate-quota-${tenant}\\): the API server answered (403|404): .*\\. The change is not let through — retry`,
        ),
      ),
    );
    expect(await routes()).toHaveLength(MAX_ROUTES - 1);
  });
});
