// Shared pieces of the Tenant/kube integration tests: clients on the run's control plane, an operator
// scoped to this test file's Tenants (integration files run in parallel against one API server, each
// with its own operator; a tenant selector keeps them off each other's Tenants), and polling helpers.
import type { ChildProcess } from 'node:child_process';
import type { KubeConfig } from '@kubernetes/client-node';
import { vi } from 'vitest';
import type { Tenant, TenantSpec } from '../../api/tenant.ts';
import { startOperator, type OperatorOptions, type RunningOperator } from '../../controllers/index.ts';
import { applyObject, createObject, deleteObject, type Named } from '../../kube/apply.ts';
import { KubeApiError, KubeClient } from '../../kube/client.ts';
import { KINDS, type KindRef } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import { errorMessage } from '../../lib/errors.ts';
import { uniqueName } from '../env/names.ts';
import { spawnOperatorProcess } from '../env/operator-process.ts';
import { testKubeConfig, testKubeconfigPath } from '../env/test-cluster.ts';

export const SHARD_LABEL = 'test.tenantgate.io/shard';

export interface Fixture {
  kc: KubeConfig;
  /** admin client (system:masters) */
  admin: KubeClient;
  /** label value that this file's operator selects Tenants by */
  shard: string;
  operators: RunningOperator[];
  startOperator(options?: Partial<OperatorOptions>): Promise<RunningOperator>;
  tenant(name: string, spec: TenantSpec, labels?: Record<string, string>): Promise<Tenant>;
  close(): Promise<void>;
}

export function fixture(): Fixture {
  const kc = testKubeConfig();
  const admin = new KubeClient({ kubeConfig: kc, userAgent: 'tenantgate-tests' });
  const shard = uniqueName('shard');
  const operators: RunningOperator[] = [];
  return {
    kc,
    admin,
    shard,
    operators,
    async startOperator(options = {}) {
      const op = await startOperator({
        kubeConfig: kc,
        leaderElection: false,
        tenantSelector: { [SHARD_LABEL]: shard },
        concurrency: 4,
        ...options,
      });
      operators.push(op);
      return op;
    },
    async tenant(name, spec, labels = {}) {
      return applyObject<Tenant>(
        admin,
        {
          apiVersion: KINDS.Tenant.apiVersion,
          kind: 'Tenant',
          metadata: { name, labels: { [SHARD_LABEL]: shard, ...labels } },
          spec,
        } as Tenant,
        { fieldManager: 'platform-team' },
      );
    },
    async close() {
      await Promise.all(operators.splice(0).map((op) => op.stop()));
      await admin.close();
    },
  };
}

/**
 * Polls `probe` (vi.waitFor, every 100 ms) until it returns a value that is not undefined/false; fails with
 * the last value seen.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; what?: string } = {},
): Promise<T> {
  return vi.waitFor(
    async () => {
      let value: T | undefined | false;
      try {
        value = await probe();
      } catch (err) {
        throw new Error(
          `timed out waiting for ${options.what ?? 'a condition'}; last: ${errorMessage(err)}`,
          {
            cause: err,
          },
        );
      }
      if (value === undefined || value === false)
        throw new Error(
          `timed out waiting for ${options.what ?? 'a condition'}; last: ${JSON.stringify(value)}`,
        );
      return value;
    },
    { timeout: options.timeoutMs ?? 20_000, interval: 100 },
  );
}

export function get<T extends KubeObject = KubeObject>(
  client: KubeClient,
  kind: KindRef,
  name: string,
  namespace?: string,
): Promise<T | undefined> {
  return client.get<T>(kind, { name, namespace });
}

export async function readyTenant(client: KubeClient, name: string, timeoutMs = 20_000): Promise<Tenant> {
  return eventually(
    async () => {
      const t = await get<Tenant>(client, KINDS.Tenant, name);
      const ready = t?.status?.conditions?.find((c) => c.type === 'Ready');
      return ready?.status === 'True' && t?.status?.observedGeneration === t?.metadata.generation
        ? t
        : undefined;
    },
    { timeoutMs, what: `Tenant ${name} Ready` },
  );
}

export function readyCondition(t: Tenant | undefined) {
  return t?.status?.conditions?.find((c) => c.type === 'Ready');
}

/** Deletes an object in a clean-up, where "already gone" (or any failure) must not fail the test. */
export async function deleteQuietly(
  client: KubeClient,
  kind: KindRef,
  name: string,
  namespace?: string,
): Promise<void> {
  const metadata = namespace === undefined ? { name } : { name, namespace };
  await deleteObject(client, { apiVersion: kind.apiVersion, kind: kind.kind, metadata }).catch(
    () => undefined,
  );
}

/**
 * Lets `user` do what `rules` allow, as a platform admin would (no operator runs in these tests to grant
 * it; admission comes after RBAC): a Role and RoleBinding `name` in `namespace`, or without a namespace a
 * ClusterRole and ClusterRoleBinding.
 */
export async function grantUser(
  client: KubeClient,
  user: string,
  grant: { name: string; namespace?: string; rules: object[] },
): Promise<void> {
  const rbac = 'rbac.authorization.k8s.io';
  const roleKind = grant.namespace === undefined ? 'ClusterRole' : 'Role';
  const metadata =
    grant.namespace === undefined ? { name: grant.name } : { name: grant.name, namespace: grant.namespace };
  await createObject(client, {
    apiVersion: `${rbac}/v1`,
    kind: roleKind,
    metadata,
    rules: grant.rules,
  } as Named);
  await createObject(client, {
    apiVersion: `${rbac}/v1`,
    kind: `${roleKind}Binding`,
    metadata,
    roleRef: { apiGroup: rbac, kind: roleKind, name: grant.name },
    subjects: [{ apiGroup: rbac, kind: 'User', name: user }],
  } as Named);
}

/** The refusal message of a write, or undefined when it went through. */
export async function refusal(write: Promise<unknown>): Promise<string | undefined> {
  try {
    await write;
    return undefined;
  } catch (err) {
    if (err instanceof KubeApiError) return err.status.message ?? err.message;
    throw err;
  }
}

export { uniqueName };

export interface EventItem {
  reason: string;
  note: string;
  type: string;
  regarding: { uid?: string; name?: string };
  reportingInstance?: string;
  series?: { count: number };
}

/** events.k8s.io Events about an object (Tenants' Events live in "default"). */
export async function eventsAbout(
  client: KubeClient,
  uid: string,
  namespace = 'default',
): Promise<EventItem[]> {
  const list = await client.list<EventItem & KubeObject>(KINDS.Event, { namespace });
  return list.items.filter((e) => e.regarding.uid === uid);
}

export interface OperatorProcess {
  readonly proc: ChildProcess;
  readonly adminAddress: string;
  /** tenantgate_leader_election_is_leader from its /metrics; undefined when it does not answer */
  isLeader(): Promise<boolean | undefined>;
  metrics(): Promise<string>;
  /** stderr so far, for failure messages */
  output(): string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** `tenantgate run --components operator` as a child process, scoped to a shard and a Lease namespace. */
export async function spawnOperator(options: {
  shard: string;
  leaseNamespace: string;
  identity: string;
  env?: Record<string, string>;
}): Promise<OperatorProcess> {
  const { proc, adminAddress } = await spawnOperatorProcess({
    kubeconfigPath: testKubeconfigPath(),
    env: {
      TENANTGATE_NAMESPACE: options.leaseNamespace,
      TENANTGATE_TENANT_SELECTOR: `${SHARD_LABEL}=${options.shard}`,
      TENANTGATE_OPERATOR_IDENTITY: options.identity,
      TENANTGATE_LOG_LEVEL: 'info',
      ...options.env,
    },
    stderr: 'pipe',
  });
  let stderr = '';
  proc.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const metrics = async () => {
    const res = await fetch(`http://${adminAddress}/metrics`, { signal: AbortSignal.timeout(2_000) });
    return res.text();
  };
  return {
    proc,
    adminAddress,
    metrics,
    async isLeader() {
      try {
        const m = /^tenantgate_leader_election_is_leader\{[^}]*\} (\d+)/m.exec(await metrics());
        return m ? m[1] === '1' : false;
      } catch {
        return undefined;
      }
    },
    output: () => stderr,
    async kill(signal) {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      return exited;
    },
  };
}
