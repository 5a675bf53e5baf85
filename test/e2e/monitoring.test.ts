// config/monitoring/ against a real Prometheus: `tenantgate local` (every component, rate-limit counters in a
// real redis-server) runs a short scripted workload — a tenant onboarded, routes and policies applied by
// its owner, a change the webhook refuses, a tenant whose namespace a cluster policy refuses (reconcile
// errors), traffic through the proxy answered 200, 429, 403 and 503, then Redis lost (rate limits failing
// open) — while bin/prometheus scrapes it with the PrometheusRule's alerts loaded. Then every dashboard
// query and every alert expression, taken from `kubectl kustomize config/monitoring` (what a cluster gets),
// must parse and return series, and `promtool check rules` must accept the rules.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../kube/envtest/ports.ts';
import { projectRoot } from '../../kube/envtest/paths.ts';
import { startRedis, type RedisServer } from '../env/redis.ts';
import { eventually, request } from './proxy-harness.ts';
import { promtoolBinary, startPrometheus, type Prometheus } from './prometheus.ts';
import { measuredParts, metricNames, render } from './promql-ast.ts';
import { grafanaSchemaProblems } from './grafana-schema.ts';

/** What Grafana substitutes in the dashboard's queries: every namespace, a rate window that fits the run. */
const GRAFANA_VARIABLES: Record<string, string> = {
  $__rate_interval: '1m',
  $namespace: '.*',
};
/** The labels Kubernetes service discovery would add (config/monitoring/servicemonitors.yaml). */
const TARGET_LABELS = { namespace: 'tenantgate-system', pod: 'tenantgate-local' };
/** Alerts whose conditions the workload creates (pending: their `for` is longer than the run). */
const EXPECTED_ACTIVE = [
  'TenantgateReconcileErrors',
  'TenantgateProxyHigh5xxRatio',
  'TenantgateRateLimitsFailingOpen',
  'TenantgateRateLimitStoreDisconnected',
];
const EXPECTED_QUIET = ['TenantgateWebhookDown', 'TenantgateNoLeader', 'TenantgateWebhookSlow'];

interface KubeDoc {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: { groups?: { name: string; rules: { alert?: string; record?: string; expr: string }[] }[] };
}
interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: { expr: string; refId: string; datasource?: { uid: string } }[];
}

const dir = mkdtempSync(join(tmpdir(), 'tg-monitoring-'));
const kubectlBin = join(projectRoot, 'bin/kubectl');
const rendered = parseAllDocuments(
  execFileSync(kubectlBin, ['kustomize', join(projectRoot, 'config/monitoring')], { encoding: 'utf8' }),
).map((d) => d.toJS() as KubeDoc);
const dashboard = JSON.parse(rendered.find((d) => d.kind === 'ConfigMap')!.data!['tenantgate.json']!) as {
  uid: string;
  schemaVersion: number;
  panels: DashboardPanel[];
  templating: { list: { name: string }[] };
};
const ruleGroups = rendered.find((d) => d.kind === 'PrometheusRule')!.spec!.groups!;
const rulesFile = join(dir, 'rules.yaml');
writeFileSync(rulesFile, stringify({ groups: ruleGroups }));

let local: ChildProcess | undefined;
let localLog = '';
let redis: RedisServer | undefined;
let prometheus: Prometheus | undefined;
let gatewayPort = 0;

const kubectl = (args: string[], input?: string, as?: string) =>
  execFileSync(
    kubectlBin,
    ['--kubeconfig', join(dir, 'local/kubeconfig'), ...(as ? ['--as', as] : []), ...args],
    { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input ? { input } : {}) },
  );
const apply = (yaml: string, as?: string) => kubectl(['apply', '-f', '-'], yaml, as);

function platformManifests(): string {
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: tenantgate}
spec: {controllerName: tenantgate.io/gateway-controller}
---
apiVersion: v1
kind: Namespace
metadata: {name: infra}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: infra}
spec:
  gatewayClassName: tenantgate
  listeners:
    - name: http
      port: ${gatewayPort}
      protocol: HTTP
      allowedRoutes:
        namespaces: {from: Selector, selector: {matchExpressions: [{key: tenantgate.io/tenant, operator: Exists}]}}
---
apiVersion: tenantgate.io/v1alpha1
kind: Tenant
metadata: {name: mon}
spec:
  owners: [{kind: User, name: alice}]
  namespaces: [{name: mon-web}]
  gateways: [{name: shared, namespace: infra, sectionNames: [http]}]
  hostnames: [mon.example.com]
---
# A cluster policy that refuses the namespace of Tenant mon-guarded: that Tenant's reconciles fail, as under
# a too-strict policy engine in a real cluster.
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: refuse-mon-guarded}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - {apiGroups: [""], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [namespaces]}
  matchConditions: [{name: mon-guarded, expression: "object.metadata.name.startsWith('mon-guarded-')"}]
  validations: [{expression: "false", message: "mon-guarded- namespaces are refused (monitoring test)"}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: refuse-mon-guarded}
spec:
  policyName: refuse-mon-guarded
  validationActions: [Deny]
`;
}

// The echo backend tenantgate local runs, published under the stand-in address it maps to loopback
// (tenant owners may not write EndpointSlices: the platform's admin does, once the namespace exists).
const echoEndpoints = (echoPort: number) => `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: hello-local, namespace: mon-web, labels: {kubernetes.io/service-name: hello}}
addressType: IPv4
ports: [{name: http, port: ${echoPort}, protocol: TCP}]
endpoints: [{addresses: [198.51.100.10], conditions: {ready: true}}]
`;

// Its namespace is refused by the cluster policy above.
const guardedTenant = `
apiVersion: tenantgate.io/v1alpha1
kind: Tenant
metadata: {name: mon-guarded}
spec:
  owners: [{kind: User, name: bob}]
  namespaces: [{name: mon-guarded-web}]
`;

/** An HTTPRoute `name` on the shared Gateway for mon.example.com/`name`, to Service `backend`. */
const monRoute = (name: string, backend: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: mon-web}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: http}]
  hostnames: [mon.example.com]
  rules: [{matches: [{path: {type: PathPrefix, value: /${name}}}], backendRefs: [{name: ${backend}, port: 80}]}]
`;

// What the tenant's owner applies: routes answered 200/429 (rate limited), 403 (AccessPolicy) and 503
// (a Service without endpoints).
const tenantManifests = `
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: mon-web}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: nobody, namespace: mon-web}
spec: {ports: [{name: http, port: 80}]}
---
${monRoute('hello', 'hello')}---
${monRoute('private', 'hello')}---
${monRoute('broken', 'nobody')}---
apiVersion: tenantgate.io/v1alpha1
kind: RateLimitPolicy
metadata: {name: hello-limit, namespace: mon-web}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: hello}]
  limits: [{name: per-ip, requests: 5, unit: Minute, clientSelectors: [{sourceCIDR: {type: Distinct, value: 0.0.0.0/0}}]}]
---
apiVersion: tenantgate.io/v1alpha1
kind: AccessPolicy
metadata: {name: private-only, namespace: mon-web}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: private}]
  rule: allow-cidrs
  parameters: {cidrs: [10.0.0.0/8]}
`;

const refusedRoute = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: sneaky, namespace: mon-web}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: http}]
  hostnames: [bank.example.org]
`;

const get = (path: string) => request(gatewayPort, path, { host: 'mon.example.com' });
const statuses = async (path: string, n: number) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await get(path)).status);
  return out;
};
const hasSeries = async (promql: string) => (await prometheus!.query(promql)).length > 0;

async function runWorkload(echoPort: number): Promise<void> {
  const tenantReady = (name: string) =>
    kubectl(['get', 'tenant', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']) ===
    'True';
  await eventually(() => tenantReady('mon'), 30_000);
  apply(echoEndpoints(echoPort));
  // The API server enforces a new policy once its informer has it: wait for that, then the Tenant.
  const refusedByPolicy = () => {
    try {
      kubectl(['create', 'namespace', 'mon-guarded-probe', '--dry-run=server']);
      return false;
    } catch (err) {
      return String((err as { stderr?: string }).stderr).includes('refuse-mon-guarded');
    }
  };
  await eventually(refusedByPolicy, 30_000);
  apply(guardedTenant);
  apply(tenantManifests, 'alice');
  let refusal = '';
  try {
    apply(refusedRoute, 'alice');
  } catch (err) {
    refusal = String((err as { stderr?: string }).stderr);
  }
  expect(refusal).toMatch(/denied the request.*route-hostnames/s);

  await eventually(async () => (await get('/hello')).status === 200, 30_000);
  await eventually(async () => (await get('/private')).status === 403, 15_000);
  const hello = await statuses('/hello', 8);
  expect(hello).toContain(429); // 5 a minute per client
  expect(await statuses('/private', 3)).toEqual([403, 403, 403]);
  // A counter's first value is not an increase to rate(): 503s both before and after Prometheus has seen
  // the series, so that the 5xx ratio is above 0.
  await twice('tenantgate_proxy_requests_total{route="mon-web/broken", code="503"}', async () =>
    expect(await statuses('/broken', 4)).toEqual([503, 503, 503, 503]),
  );

  // Redis lost: the rate limit fails open (allowed, counted as failed_open) and the store reports it.
  await redis!.kill();
  await eventually(async () => (await get('/hello')).status === 200, 15_000);
  await twice('tenantgate_ratelimit_decisions_total{decision="failed_open"}', async () =>
    expect(await statuses('/hello', 3)).toEqual([200, 200, 200]),
  );

  // Prometheus has seen the rest (it scrapes every second); the guarded tenant's reconciles keep failing.
  const seen = {
    'Redis store disconnected': 'tenantgate_ratelimit_redis_connected == 0',
    // the second burst's increase scraped too (rate() needs two samples of the counter in its window)
    'fail-mode decisions increasing': 'rate(tenantgate_ratelimit_store_unavailable_total[1m]) > 0',
    'failed-open decisions increasing':
      'rate(tenantgate_ratelimit_decisions_total{decision="failed_open"}[1m]) > 0',
    'reconcile errors increasing': 'increase(tenantgate_operator_reconciles_total{result="error"}[1m]) > 0',
    'access denials': 'tenantgate_access_decisions_total{decision="denied"}',
    'admission denials': 'tenantgate_admission_decisions_total{action="deny"}',
  };
  let unseen: string[] = [];
  await eventually(async () => {
    unseen = [];
    for (const [what, promql] of Object.entries(seen)) if (!(await hasSeries(promql))) unseen.push(what);
    return unseen.length === 0;
  }, 30_000).catch(() => {
    const guarded = kubectl(['get', 'tenant', 'mon-guarded', '-o', 'jsonpath={.status.conditions}']);
    throw new Error(`Prometheus never saw: ${unseen.join(', ')} (Tenant mon-guarded: ${guarded})`);
  });
}

/** Makes traffic, waits until Prometheus has the series, makes it again. */
async function twice(series: string, traffic: () => Promise<void>): Promise<void> {
  await traffic();
  await eventually(() => hasSeries(series), 15_000);
  await traffic();
}

beforeAll(async () => {
  redis = await startRedis();
  const [adminPort, echoPort, port] = await freePorts(3);
  gatewayPort = port!;
  local = spawn(
    join(projectRoot, 'node_modules/.bin/node'),
    [
      join(projectRoot, 'cmd/tenantgate.ts'),
      'local',
      '--dir',
      join(dir, 'local'),
      '--admin-address',
      `127.0.0.1:${adminPort}`,
      '--echo-address',
      `127.0.0.1:${echoPort}`,
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TENANTGATE_RATE_LIMIT_REDIS: redis.url, TENANTGATE_LOG_LEVEL: 'warn' },
    },
  );
  local.stdout!.on('data', (c: Buffer) => (localLog += c));
  local.stderr!.on('data', (c: Buffer) => (localLog += c));
  await eventually(() => localLog.includes('Ctrl-C stops everything') || local!.exitCode !== null, 90_000);
  if (!localLog.includes('Ctrl-C stops everything'))
    throw new Error(`tenantgate local did not start:\n${localLog}`);

  // tenantgate local runs every component in one process: scraped as both jobs a cluster has.
  const target = `127.0.0.1:${adminPort}`;
  prometheus = await startPrometheus({
    dir: join(dir, 'prometheus'),
    rulesFile,
    jobs: [
      { job: 'tenantgate-controller', target, labels: TARGET_LABELS },
      { job: 'tenantgate-proxy', target, labels: TARGET_LABELS },
    ],
  });
  apply(platformManifests());
  await runWorkload(echoPort!);
}, 240_000);

afterAll(async () => {
  await prometheus?.stop();
  if (local && local.exitCode === null) {
    const exited = new Promise((r) => local!.once('exit', r));
    local.kill('SIGTERM'); // stops its etcd and kube-apiserver too
    await Promise.race([exited, new Promise((r) => setTimeout(r, 20_000))]);
    if (local.exitCode === null) local.kill('SIGKILL');
  }
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('config/monitoring against a real Prometheus scraping tenantgate local', () => {
  it('promtool accepts the PrometheusRule groups', () => {
    const out = execFileSync(promtoolBinary, ['check', 'rules', rulesFile], { encoding: 'utf8' });
    const rules = ruleGroups.flatMap((g) => g.rules).length;
    expect(out).toContain(`SUCCESS: ${rules} rules found`);
  });

  it('every dashboard query parses and returns series', async () => {
    const problems: string[] = [];
    const known = new Set(await prometheus!.metricNames());
    let checked = 0;
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        let expr = target.expr;
        for (const [variable, value] of Object.entries(GRAFANA_VARIABLES))
          expr = expr.replaceAll(variable, value);
        const where = `panel "${panel.title}" ${target.refId}`;
        expect(expr, `${where}: a Grafana variable was left in`).not.toMatch(/\$\w/);
        let names: string[];
        try {
          names = metricNames(await prometheus!.parse(expr));
        } catch (err) {
          problems.push(`${where}: does not parse: ${(err as Error).message}`);
          continue;
        }
        checked++;
        for (const n of names.filter((n) => !known.has(n)))
          problems.push(`${where}: no metric ${n} was scraped`);
        if (!(await hasSeries(expr))) problems.push(`${where}: returns no series: ${expr}`);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(25);
  });

  it('every alert expression parses and what it measures returns series', async () => {
    const problems: string[] = [];
    const known = new Set(await prometheus!.metricNames());
    const alerts = ruleGroups.flatMap((g) => g.rules).filter((r) => r.alert);
    for (const rule of alerts) {
      const ast = await prometheus!.parse(rule.expr).catch((err: Error) => {
        problems.push(`${rule.alert}: does not parse: ${err.message}`);
      });
      if (!ast) continue;
      for (const n of metricNames(ast).filter((n) => !known.has(n)))
        problems.push(`${rule.alert}: no metric ${n} was scraped`);
      for (const part of measuredParts(ast)) {
        const promql = render(part);
        if (!(await hasSeries(promql))) problems.push(`${rule.alert}: ${promql} returns no series`);
      }
    }
    expect(problems).toEqual([]);
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining([...EXPECTED_ACTIVE, ...EXPECTED_QUIET]),
    );
  });

  it('the alerts for the faults the workload made go active, and no others', async () => {
    let active: { alert: string; state: string }[] = [];
    await eventually(async () => {
      active = (await prometheus!.alerts()).map((a) => ({ alert: a.labels['alertname']!, state: a.state }));
      return EXPECTED_ACTIVE.every((name) => active.some((a) => a.alert === name));
    }, 20_000).catch(() => {});
    const names = [...new Set(active.map((a) => a.alert))].sort();
    console.log(
      `alerts active after the workload: ${active.map((a) => `${a.alert} (${a.state})`).join(', ')}`,
    );
    expect(names).toEqual([...EXPECTED_ACTIVE].sort());
    for (const name of EXPECTED_QUIET) expect(names).not.toContain(name);
  });

  it("the dashboard conforms to Grafana's dashboard schema (@grafana/schema), and a broken copy does not", () => {
    const json = rendered.find((d) => d.kind === 'ConfigMap')!.data!['tenantgate.json']!;
    expect(grafanaSchemaProblems(JSON.parse(json) as Record<string, unknown>)).toEqual([]);
    const broken = JSON.parse(json.replace('"gridPos"', '"gridPosition"')) as Record<string, unknown>;
    expect(grafanaSchemaProblems(broken).join('\n')).toMatch(/'"?gridPosition"?' does not exist/);
  });

  it('the dashboard imports into Grafana >= 10: data source variable, unique ids, panels on the 24-column grid', () => {
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.schemaVersion).toBe(38); // Grafana 10.0's: later versions migrate it on load
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'namespace']);
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const coreTypes = new Set(['row', 'timeseries', 'stat']);
    for (const p of dashboard.panels) {
      expect(coreTypes.has(p.type), `panel "${p.title}" type ${p.type}`).toBe(true);
      expect(p.gridPos.x + p.gridPos.w, `panel "${p.title}" width`).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.datasource?.uid, `panel "${p.title}" data source`).toBe('${datasource}');
      for (const t of p.targets ?? []) expect(t.datasource?.uid).toBe('${datasource}');
    }
  });
});
