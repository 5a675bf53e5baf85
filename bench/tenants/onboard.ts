// Onboarding benchmark: N Tenants x M namespaces against a local control plane (etcd + kube-apiserver from
// bin/), reconciled by a real `tenantgate run --components operator` process. Prints (text, then one JSON
// line): time until all Ready, p50/p99 time-to-Ready, API writes per tenant and per namespace (from the
// operator's own tenantgate_kube_requests_total; Lease renewals are counted apart), operator RSS, and the
// writes of a full resync with nothing changed. Baseline, measured in the same run on the same control
// plane: the bench itself writing the same objects (namespaces, RoleBindings, ReferenceGrants) directly,
// so "operator time / baseline" says how close the operator gets to what the API server can take.
//
//   node_modules/.bin/node bench/tenants/onboard.ts [--tenants 200] [--namespaces 3] [--kubeconfig FILE]
//
// Targets (issue 3): all Ready <= 60 s on a 2-core machine, <= 15 writes per namespace, 0 writes on resync.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import type { Tenant } from '../../api/tenant.ts';
import { applyObject, createObject } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { startControlPlane, type ControlPlane } from '../../kube/envtest/control-plane.ts';
import { crdPaths } from '../../kube/envtest/paths.ts';
import { Informer } from '../../kube/informer.ts';
import { KINDS } from '../../kube/resources.ts';
import { spawnOperatorProcess } from '../../test/env/operator-process.ts';

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '200' },
    namespaces: { type: 'string', default: '3' },
    kubeconfig: { type: 'string' },
    'resync-ms': { type: 'string', default: '45000' },
  },
});
const TENANTS = Number(values.tenants);
const NAMESPACES = Number(values.namespaces);
const RESYNC_MS = Number(values['resync-ms']);
const WRITE_VERBS = new Set(['create', 'apply', 'patch', 'update', 'delete']);
const say = (m: string) => process.stderr.write(`[bench] ${m}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- the control plane ---------------------------------------------------------------------------------
let controlPlane: ControlPlane | undefined;
let kubeconfigPath: string;
const kc = new KubeConfig();
if (values.kubeconfig) {
  kubeconfigPath = values.kubeconfig;
  kc.loadFromFile(kubeconfigPath);
} else {
  say('starting a control plane');
  controlPlane = await startControlPlane({ crdPaths: crdPaths() });
  kubeconfigPath = controlPlane.kubeconfigPath;
  kc.loadFromString(controlPlane.kubeconfigYaml);
}
const client = new KubeClient({ kubeConfig: kc, userAgent: 'tenantgate-bench', maxConnections: 32 });
const run = Math.random().toString(36).slice(2, 7);

try {
  const result = await benchOperator();
  const baseline = await benchBaseline();
  report(result, baseline);
} finally {
  await client.close();
  await controlPlane?.stop();
}

// ---- the operator ---------------------------------------------------------------------------------------

async function benchOperator() {
  const { proc: operator, adminAddress: admin } = await spawnOperatorProcess({
    kubeconfigPath,
    env: {
      TENANTGATE_LOG_LEVEL: 'warn',
      TENANTGATE_RESYNC_PERIOD_MS: String(RESYNC_MS),
      TENANTGATE_NAMESPACE: `bench-${run}`,
    },
    stderr: 'inherit',
  });
  const scrape = async () => parseMetrics(await (await fetch(`http://${admin}/metrics`)).text());
  try {
    await until(
      async () => (await fetch(`http://${admin}/readyz`).catch(() => undefined))?.status === 200,
      60_000,
      'operator ready',
    );
    await until(
      async () => ((await scrape()).get('tenantgate_leader_election_is_leader') ?? 0) === 1,
      30_000,
      'operator leading',
    );
    await sleep(500);
    const before = await scrape();

    const ready = new Map<string, number>();
    const started = new Map<string, number>();
    const tenants = new Informer<Tenant>({ client, kind: KINDS.Tenant });
    const check = (t: Tenant) => {
      const c = t.status?.conditions?.find((x) => x.type === 'Ready');
      if (
        c?.status === 'True' &&
        t.status?.observedGeneration === t.metadata.generation &&
        !ready.has(t.metadata.name)
      )
        ready.set(t.metadata.name, performance.now());
    };
    tenants.addHandlers({ onAdd: check, onUpdate: check });
    tenants.start();
    await tenants.waitForSync({ timeoutMs: 30_000 });

    say(`creating ${TENANTS} tenants x ${NAMESPACES} namespaces`);
    const t0 = performance.now();
    await pool(TENANTS, 16, async (i) => {
      const name = `t${run}-${i}`;
      started.set(name, performance.now());
      await applyObject(
        client,
        {
          apiVersion: KINDS.Tenant.apiVersion,
          kind: 'Tenant',
          metadata: { name },
          spec: {
            owners: [
              { kind: 'Group', name: `${name}-devs` },
              { kind: 'User', name: `${name}-lead` },
            ],
            namespaces: Array.from({ length: NAMESPACES }, (_, n) => ({
              name: `${name}-ns${n}`,
              labels: { team: `team-${i % 10}` },
            })),
            hostnames: [`${name}.example.com`],
          },
        },
        { fieldManager: 'bench' },
      );
    });
    const created = performance.now();
    await until(
      () => ready.size >= TENANTS,
      300_000,
      'all tenants Ready',
      () => `${ready.size}/${TENANTS} Ready`,
    );
    const allReady = performance.now();
    const times = [...ready].map(([name, at]) => at - started.get(name)!).sort((a, b) => a - b);

    // let stray reconciles (our own writes' watch events) settle before counting
    await quiesce(scrape);
    const afterOnboarding = await scrape();
    const rss = {
      ...processMemory(operator.pid!),
      heapUsedMiB: Math.round((afterOnboarding.get('tenantgate_nodejs_heap_size_used_bytes') ?? 0) / 1048576),
    };

    say(`waiting for a full resync (every ${RESYNC_MS / 1000}s)`);
    const reconcilesBefore = sum(afterOnboarding, 'tenantgate_operator_reconciles_total');
    await until(
      async () => sum(await scrape(), 'tenantgate_operator_reconciles_total') - reconcilesBefore >= TENANTS,
      RESYNC_MS + 60_000,
      'a full resync',
    );
    await quiesce(scrape);
    const afterResync = await scrape();
    await tenants.stop();

    return {
      createSeconds: (created - t0) / 1000,
      allReadySeconds: (allReady - t0) / 1000,
      p50Seconds: quantile(times, 0.5) / 1000,
      p99Seconds: quantile(times, 0.99) / 1000,
      writes: writes(before, afterOnboarding),
      resync: {
        reconciles: sum(afterResync, 'tenantgate_operator_reconciles_total') - reconcilesBefore,
        writes: writes(afterOnboarding, afterResync),
      },
      rss,
    };
  } finally {
    operator.kill('SIGTERM');
    await new Promise((r) => operator.once('exit', r));
  }
}

// ---- the baseline: the same objects, written directly ------------------------------------------------------

async function benchBaseline() {
  say('baseline: writing the same namespaces, RoleBindings and ReferenceGrants directly');
  const t0 = performance.now();
  let count = 0;
  await pool(TENANTS, 16, async (i) => {
    const names = Array.from({ length: NAMESPACES }, (_, n) => `b${run}-${i}-ns${n}`);
    for (const ns of names) {
      await createObject(client, {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns, labels: { team: 'x' } },
      });
      await applyObject(client, {
        apiVersion: KINDS.RoleBinding.apiVersion,
        kind: 'RoleBinding',
        metadata: { name: 'owners', namespace: ns },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'Group', name: 'devs', apiGroup: 'rbac.authorization.k8s.io' }],
      });
      await applyObject(client, {
        apiVersion: KINDS.ReferenceGrant.apiVersion,
        kind: 'ReferenceGrant',
        metadata: { name: 'routes', namespace: ns },
        spec: {
          from: names
            .filter((n) => n !== ns)
            .map((n) => ({ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: n })),
          to: [{ group: '', kind: 'Service' }],
        },
      });
      count += 3;
    }
  });
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, writes: count, writesPerSecond: count / seconds };
}

// ---- report ------------------------------------------------------------------------------------------------

function report(
  r: Awaited<ReturnType<typeof benchOperator>>,
  base: Awaited<ReturnType<typeof benchBaseline>>,
) {
  const ns = TENANTS * NAMESPACES;
  const lines = [
    `tenants: ${TENANTS} x ${NAMESPACES} namespaces (${ns} namespaces)`,
    `all Ready:            ${r.allReadySeconds.toFixed(1)} s   (target <= 60 s; creating the Tenants took ${r.createSeconds.toFixed(1)} s)`,
    `time to Ready:        p50 ${r.p50Seconds.toFixed(2)} s, p99 ${r.p99Seconds.toFixed(2)} s`,
    `API writes:           ${r.writes.total} = ${(r.writes.total / TENANTS).toFixed(1)} per tenant, ${(r.writes.total / ns).toFixed(1)} per namespace (target <= 15)`,
    `  by verb/resource:   ${Object.entries(r.writes.byKey)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  Lease renewals:     ${r.writes.leases} (not counted above)`,
    `operator memory:      RSS ${r.rss.rssMiB} MiB (peak ${r.rss.hwmMiB} MiB; JS heap in use ${r.rss.heapUsedMiB} MiB; an idle operator process is ~105 MiB RSS)`,
    `no-op full resync:    ${r.resync.reconciles} reconciles, ${r.resync.writes.total} writes (target 0)`,
    `baseline:             ${base.writes} direct writes in ${base.seconds.toFixed(1)} s (${base.writesPerSecond.toFixed(0)}/s)`,
    `ratio:                operator all-Ready time / baseline time = ${(r.allReadySeconds / base.seconds).toFixed(2)}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  process.stdout.write(
    JSON.stringify({
      tenants: TENANTS,
      namespaces: NAMESPACES,
      allReadySeconds: r.allReadySeconds,
      p50Seconds: r.p50Seconds,
      p99Seconds: r.p99Seconds,
      writesPerTenant: r.writes.total / TENANTS,
      writesPerNamespace: r.writes.total / ns,
      rssMiB: r.rss.rssMiB,
      resyncWrites: r.resync.writes.total,
      baselineSeconds: base.seconds,
      ratioToBaseline: r.allReadySeconds / base.seconds,
    }) + '\n',
  );
}

// ---- helpers -----------------------------------------------------------------------------------------------

type Metrics = Map<string, number>;

/** Prometheus text -> "name{labels}" -> value (and "name" -> sum over labels). */
function parseMetrics(text: string): Metrics {
  const out: Metrics = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? ([-+\d.eE]+|NaN)$/.exec(line);
    if (!m) continue;
    const value = Number(m[3]);
    out.set(`${m[1]}${m[2] ?? ''}`, value);
    out.set(m[1]!, (out.get(m[1]!) ?? 0) + value);
  }
  return out;
}

function sum(m: Metrics, name: string): number {
  return m.get(name) ?? 0;
}

function writes(before: Metrics, after: Metrics) {
  const byKey: Record<string, number> = {};
  let total = 0;
  let leases = 0;
  for (const [key, value] of after) {
    const m = /^tenantgate_kube_requests_total\{(.*)\}$/.exec(key);
    if (!m) continue;
    const labels = Object.fromEntries([...m[1]!.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (!WRITE_VERBS.has(labels.verb!)) continue;
    const delta = value - (before.get(key) ?? 0);
    if (!delta) continue;
    if (labels.resource === 'leases') {
      leases += delta;
      continue;
    }
    total += delta;
    const k = `${labels.verb} ${labels.resource}${labels.code === '200' || labels.code === '201' ? '' : ` (${labels.code})`}`;
    byKey[k] = (byKey[k] ?? 0) + delta;
  }
  return { total, leases, byKey };
}

/** Waits until the operator's queue is empty and reconciles stop for a second. */
async function quiesce(scrape: () => Promise<Metrics>): Promise<void> {
  let last = -1;
  for (;;) {
    const m = await scrape();
    const count = sum(m, 'tenantgate_operator_reconciles_total');
    if (count === last && sum(m, 'tenantgate_operator_queue_depth') === 0) return;
    last = count;
    await sleep(1_000);
  }
}

function processMemory(pid: number): { rssMiB: number; hwmMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssMiB: Math.round(kib('VmRSS') / 1024), hwmMiB: Math.round(kib('VmHWM') / 1024) };
}

async function until(
  probe: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
  progress?: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastReport = Date.now();
  while (!(await probe())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${progress ? `: ${progress()}` : ''}`);
    if (progress && Date.now() - lastReport > 5_000) {
      say(progress());
      lastReport = Date.now();
    }
    await sleep(50);
  }
}

async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}
