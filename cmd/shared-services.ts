// What one tenantgate process shares between its components, built before any component starts and
// decided by the set of components alone, never by their order: one admin server, one API client, one
// informer factory (one watch per kind whoever asks), one Lease holder identity, one answer to "do I
// write status?" and at most one policy engine.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../kube/client.ts';
import { operatorNamespace } from '../kube/config.ts';
import { InformerFactory } from '../kube/informer-factory.ts';
import { LeaderElector } from '../kube/lease.ts';
import { startAdminServer, type AdminServer } from '../lib/admin-server.ts';
import { PolicyEngine } from '../policies/engine.ts';

export type ComponentName = 'operator' | 'webhook' | 'proxy';

/** The Lease the operator elects its leader on; its leader also writes the proxy's status. */
export const OPERATOR_LEASE = 'tenantgate-operator';
/** The proxies' own Lease, for processes that run the proxy without the operator. */
export const PROXY_STATUS_LEASE = 'tenantgate-proxy-status';

/** Which shared services a set of components needs; a pure function of the set. */
export interface SharedServicesPlan {
  /**
   * The Lease whose holder writes Gateway API and policy status: the operator's when the operator runs in
   * this process (it is elected anyway), else the proxies' own when the proxy runs; none otherwise.
   */
  statusLease: typeof OPERATOR_LEASE | typeof PROXY_STATUS_LEASE | undefined;
  /**
   * One engine built up front when the webhook runs (the webhook configures it and loads its bundles; the
   * proxy evaluates AccessPolicies with it). A proxy without the webhook loads its own on its first
   * AccessPolicy, so a process without access rules never pays for one.
   */
  sharedPolicyEngine: boolean;
}

export function planSharedServices(names: Iterable<ComponentName>): SharedServicesPlan {
  const set = new Set(names);
  return {
    statusLease: set.has('operator') ? OPERATOR_LEASE : set.has('proxy') ? PROXY_STATUS_LEASE : undefined,
    sharedPolicyEngine: set.has('webhook'),
  };
}

/** Who writes status in this process; the operator's Lease or the proxies' own, per the plan. */
export interface Leadership {
  /** the Lease holder identity of every Lease this process takes */
  readonly identity: string;
  readonly lease: SharedServicesPlan['statusLease'];
  isLeader(): boolean;
  /**
   * The operator reports its election here when it starts. Until then (a proxy started before the
   * operator) this process is not the leader: status waits, it is never written by a second Lease's holder.
   */
  operatorStarted(operator: { isLeader(): boolean }): void;
}

export interface SharedServices {
  readonly plan: SharedServicesPlan;
  readonly admin: AdminServer;
  readonly client: KubeClient;
  readonly informers: InformerFactory;
  readonly leadership: Leadership;
  /** set when the plan shares one (the webhook runs) */
  readonly engine: PolicyEngine | undefined;
  /** stops what was built, in reverse order */
  stop(): Promise<void>;
}

export interface SharedServicesContext {
  kubeConfig: KubeConfig;
  adminAddress: string;
  /** the Lease holder identity kept by `tenantgate local`; default $TENANTGATE_OPERATOR_IDENTITY, else
   *  "<hostname>_<random>" */
  identity?: string;
}

export async function buildSharedServices(
  names: Iterable<ComponentName>,
  ctx: SharedServicesContext,
): Promise<SharedServices> {
  const plan = planSharedServices(names);
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.splice(0).reverse()) await s().catch(() => {});
  };
  try {
    const admin = await startAdminServer({ address: ctx.adminAddress });
    stops.push(() => admin.close());
    const client = new KubeClient({ kubeConfig: ctx.kubeConfig });
    stops.push(() => client.close());
    const informers = new InformerFactory({ client });
    stops.push(() => informers.stop());
    // started first: informers asked for later start at once, so a component may wait for its caches
    informers.start();
    const engine = plan.sharedPolicyEngine ? await PolicyEngine.create() : undefined;
    const identity =
      ctx.identity ??
      process.env.TENANTGATE_OPERATOR_IDENTITY ??
      `${os.hostname()}_${randomBytes(4).toString('hex')}`;
    const leadership = makeLeadership(plan, client, identity);
    stops.push(() => leadership.stop());
    return { plan, admin, client, informers, leadership, engine, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function makeLeadership(
  plan: SharedServicesPlan,
  client: KubeClient,
  identity: string,
): Leadership & { stop(): Promise<void> } {
  const lease = plan.statusLease;
  if (lease === PROXY_STATUS_LEASE) {
    const elector = new LeaderElector({
      client,
      identity,
      namespace: operatorNamespace(),
      name: PROXY_STATUS_LEASE,
      onStartedLeading: () => {},
      onStoppedLeading: () => {},
    });
    elector.start();
    return {
      identity,
      lease,
      isLeader: () => elector.isLeader(),
      operatorStarted: () => {},
      stop: () => elector.stop(),
    };
  }
  let operator: { isLeader(): boolean } | undefined;
  return {
    identity,
    lease,
    isLeader: () => operator?.isLeader() ?? false,
    operatorStarted: (o) => (operator = o),
    stop: async () => {},
  };
}
