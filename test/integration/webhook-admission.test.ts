// The admission webhook registered with the run's real kube-apiserver, which calls it over TLS: tenant
// owners (impersonated) are refused foreign hostnames, other tenants' Services and Gateways they were not
// given, with the policy named; a valid route is accepted; a warn-mode violation is accepted with a
// warning; refusals are in `tenantgate audit` and in Events; with the webhook stopped, tenant route writes
// fail closed while kube-system is spared.
//
// Integration files share one API server, so this webhook only sees objects carrying this file's label
// (objectSelector), and its registration is removed at the end.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createObject, deleteObject } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { projectRoot } from '../../kube/envtest/paths.ts';
import { KINDS } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import type { AuditRecord } from '../../webhooks/audit-log.ts';
import { startWebhook, type RunningWebhook } from '../../webhooks/index.ts';
import { uniqueName } from '../env/names.ts';
import { testKubeConfig, testKubeconfigPath } from '../env/test-cluster.ts';
import { deleteQuietly, grantUser, refusal } from './tenant-fixtures.ts';

const exec = promisify(execFile);
const TEST_LABEL = 'test.tenantgate.io/webhook';

const run = uniqueName('wh');
const labels = { [TEST_LABEL]: run };
const alice = uniqueName('alice');
const acme = uniqueName('acme');
const globex = uniqueName('globex');
const ns = {
  web: `${acme}-web`,
  api: `${acme}-api`,
  other: `${globex}-web`,
  infra: uniqueName('infra'),
  system: uniqueName('tg-system'),
};
const acmeHost = `${acme}.example.com`;
const registrationName = uniqueName('tenantgate-test');

type Obj = KubeObject & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
} & Record<string, unknown>;

function route(name: string, namespace: string, spec: Record<string, unknown>): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace, labels },
    spec,
  };
}

const validSpec = () => ({
  parentRefs: [{ name: 'shared', namespace: ns.infra, sectionName: 'http' }],
  hostnames: [`shop.${acmeHost}`],
  rules: [
    {
      backendRefs: [
        { name: 'shop', port: 80 },
        { name: 'api', namespace: ns.api, port: 8080 },
      ],
    },
  ],
});

describe('admission webhook in a real API server', () => {
  const kc = testKubeConfig();
  const admin = new KubeClient({ kubeConfig: kc, userAgent: 'tenantgate-tests' });
  const asAlice = new KubeClient({
    kubeConfig: kc,
    userAgent: 'tenantgate-tests',
    impersonate: { user: alice, groups: ['system:authenticated'] },
  });
  const auditLogPath = join(mkdtempSync(join(tmpdir(), 'tg-webhook-audit-')), 'admission.jsonl');
  let webhook: RunningWebhook | undefined;

  beforeAll(async () => {
    for (const name of Object.values(ns)) {
      await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
    }
    const tenant = (name: string, spec: Record<string, unknown>): Obj => ({
      apiVersion: KINDS.Tenant.apiVersion,
      kind: 'Tenant',
      metadata: { name, labels },
      spec,
    });
    await createObject(
      admin,
      tenant(acme, {
        owners: [{ kind: 'User', name: alice }],
        namespaces: [{ name: ns.web }, { name: ns.api }],
        gateways: [{ name: 'shared', namespace: ns.infra, sectionNames: ['http'] }],
        hostnames: [acmeHost, `*.${acmeHost}`],
        limits: { maxRoutes: 1 },
      }),
    );
    await createObject(
      admin,
      tenant(globex, { namespaces: [{ name: ns.other }], hostnames: [`${globex}.example.com`] }),
    );
    // alice may write routes in her namespace (no operator runs here to grant it): admission comes after RBAC
    await grantUser(admin, alice, {
      name: 'routes',
      namespace: ns.web,
      rules: [{ apiGroups: ['gateway.networking.k8s.io'], resources: ['httproutes'], verbs: ['*'] }],
    });

    webhook = await startWebhook({
      kubeConfig: kc,
      url: 'https://127.0.0.1:{port}/validate',
      registrationName,
      objectSelector: { matchLabels: labels },
      namespace: ns.system,
      auditLogPath,
      policyConfig: { enforcement: { default: 'deny', policies: { 'route-count': 'warn' } }, bundles: [] },
    });
    await vi.waitFor(() => expect(webhook!.engine.inventory.tenants[acme]).toBeDefined(), {
      timeout: 10_000,
    });
    // the API server picks the new registration up from its own watch: wait until it calls us
    await vi.waitFor(
      async () => {
        const probe = route('probe', ns.web, { ...validSpec(), hostnames: ['probe.example.org'] });
        expect(await refusal(createObject(admin, probe, { dryRun: true }))).toContain('[route-hostnames]');
      },
      { timeout: 20_000, interval: 250 },
    );
  });

  afterAll(async () => {
    await webhook?.stop();
    await admin
      .request({
        method: 'DELETE',
        path: `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${registrationName}`,
      })
      .catch(() => {});
    for (const name of [acme, globex]) await deleteQuietly(admin, KINDS.Tenant, name);
    for (const name of Object.values(ns)) await deleteQuietly(admin, KINDS.Namespace, name);
    await asAlice.close();
    await admin.close();
  });

  it('refuses a tenant owner a hostname outside the tenant, naming the policy and the fix', async () => {
    const message = await refusal(
      createObject(
        asAlice,
        route('foreign-host', ns.web, { ...validSpec(), hostnames: [`www.${globex}.example.com`] }),
      ),
    );
    expect(message).toMatch(
      /^admission webhook "validate\.tenantgate\.io" denied the request: HTTPRoute .*\/foreign-host is refused by tenantgate policies:\n\[route-hostnames\] spec\.hostnames\[0\] 'www\.globex-\w+\.example\.com' is not among tenant '[^']+' hostnames .* — use a hostname the tenant lists/,
    );
  });

  it("refuses another tenant's Service", async () => {
    const spec = {
      ...validSpec(),
      rules: [{ backendRefs: [{ name: 'billing', namespace: ns.other, port: 80 }] }],
    };
    const message = await refusal(createObject(asAlice, route('foreign-service', ns.web, spec)));
    expect(message).toContain(
      `[route-backend-refs] spec.rules[0].backendRefs[0] is Service ${ns.other}/billing, in namespace '${ns.other}' of tenant '${globex}'`,
    );
  });

  it('refuses a Gateway the tenant was not given', async () => {
    const spec = { ...validSpec(), parentRefs: [{ name: 'private', namespace: ns.infra }] };
    const message = await refusal(createObject(asAlice, route('foreign-gateway', ns.web, spec)));
    expect(message).toContain(
      `[route-parent-refs] spec.parentRefs[0] is Gateway ${ns.infra}/private, which tenant '${acme}' was not given`,
    );
  });

  it('accepts a valid route', async () => {
    const created = await createObject(asAlice, route('shop', ns.web, validSpec()));
    expect(created.metadata?.uid).toBeTruthy();
  });

  it('accepts a warn-mode violation with a warning (kubectl shows it)', async () => {
    // the route count reaches the engine through the informers
    await vi.waitFor(() => expect(webhook!.engine.inventory.route_counts[acme]).toBe(1), { timeout: 10_000 });
    const manifest = JSON.stringify(
      route('second', ns.web, { ...validSpec(), hostnames: [`second.${acmeHost}`] }),
    );
    const child = exec(join(projectRoot, 'bin', 'kubectl'), [
      '--kubeconfig',
      testKubeconfigPath(),
      '--as',
      alice,
      'create',
      '-f',
      '-',
      '-o',
      'name',
    ]);
    child.child.stdin!.end(manifest);
    const { stdout, stderr } = await child;
    expect(stdout.trim()).toBe('httproute.gateway.networking.k8s.io/second');
    expect(stderr).toMatch(
      new RegExp(
        `^Warning: \\[route-count\\] tenant '${acme}' already has 1 routes .* and its limit is 1 — delete a route`,
        'm',
      ),
    );
  });

  it('evaluates dry-run requests and marks them in the audit trail', async () => {
    const message = await refusal(
      createObject(asAlice, route('dry', ns.web, { ...validSpec(), hostnames: ['dry.example.org'] }), {
        dryRun: true,
      }),
    );
    expect(message).toContain('[route-hostnames]');
  });

  it('shows every refusal in `tenantgate audit` with the user, and as PolicyViolation Events', async () => {
    const { stdout } = await exec(join(projectRoot, 'node_modules', '.bin', 'node'), [
      join(projectRoot, 'cmd', 'tenantgate.ts'),
      'audit',
      '--file',
      auditLogPath,
      '--user',
      alice,
      '-o',
      'json',
    ]);
    const records = JSON.parse(stdout) as AuditRecord[];
    const summary = records.map((r) => [
      r.name,
      r.action,
      r.dryRun,
      r.tenant,
      r.violations.map((v) => v.policy).join(','),
    ]);
    expect(summary).toEqual([
      ['foreign-host', 'deny', false, acme, 'route-hostnames'],
      ['foreign-service', 'deny', false, acme, 'route-backend-refs'],
      ['foreign-gateway', 'deny', false, acme, 'route-parent-refs'],
      ['second', 'warn', false, acme, 'route-count'],
      // by now the tenant is at its route limit too (warn mode)
      ['dry', 'deny', true, acme, 'route-count,route-hostnames'],
    ]);
    expect(records.every((r) => r.user === alice && r.groups.includes('system:authenticated'))).toBe(true);
    const table = await exec(join(projectRoot, 'node_modules', '.bin', 'node'), [
      join(projectRoot, 'cmd', 'tenantgate.ts'),
      'audit',
      '--file',
      auditLogPath,
      '--tenant',
      acme,
      '--policy',
      'route-parent-refs',
    ]);
    expect(table.stdout).toContain(`${alice}  ${acme}`);
    expect(table.stdout).toContain(`HTTPRoute ${ns.web}/foreign-gateway`);

    await vi.waitFor(
      async () => {
        const events = await admin.list<
          KubeObject & { reason?: string; note?: string; regarding?: { name?: string } }
        >(KINDS.Event, { namespace: ns.web });
        const violations = events.items.filter((e) => e.reason === 'PolicyViolation');
        expect(violations.map((e) => e.regarding?.name).sort()).toEqual([
          'foreign-gateway',
          'foreign-host',
          'foreign-service',
          'second',
        ]);
        expect(violations.every((e) => e.note?.startsWith(`${alice}: CREATE HTTPRoute ${ns.web}/`))).toBe(
          true,
        );
      },
      { timeout: 15_000, interval: 500 },
    );
  });

  it('fails closed for tenant route writes when the webhook is down, and spares kube-system', async () => {
    await webhook!.stop();
    webhook = undefined;
    const message = await refusal(createObject(asAlice, route('while-down', ns.web, validSpec())));
    expect(message).toMatch(/failed calling webhook "validate\.tenantgate\.io"/);
    // the namespaceSelector leaves kube-system out, even for objects the webhook would otherwise see
    const system = route(uniqueName('system-route'), 'kube-system', { hostnames: ['status.example.org'] });
    const created = await createObject(admin, system);
    expect(created.metadata?.uid).toBeTruthy();
    await deleteObject(admin, system);
  });
});
