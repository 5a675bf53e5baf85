// The components one tenantgate process can run, and how `run` and `local` start them. Each loads
// lazily so a process only imports what it runs (the proxy never loads the controllers).
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../kube/client.ts';
import { InformerFactory } from '../kube/informer-factory.ts';
import { LeaderElector } from '../kube/lease.ts';
import type { PolicyEngine } from '../policies/engine.ts';
import { startAdminServer, type AdminServer } from '../lib/admin-server.ts';
import { defineError } from '../lib/errors.ts';
import { operatorNamespace } from '../kube/config.ts';

export const COMPONENT_NAMES = ['operator', 'webhook', 'proxy'] as const;
export type ComponentName = (typeof COMPONENT_NAMES)[number];

export const UnknownComponentError = defineError(
  'TG_UNKNOWN_COMPONENT',
  "unknown component '%s' in --components (known: %s)",
);

export interface ComponentContext {
  kubeConfig: KubeConfig;
  /** host:port of the process's admin HTTP server (/healthz, /readyz, /metrics) */
  adminAddress: string;
  /** set by `tenantgate local`: where to keep local state, the local cluster's CA, the stand-in
   *  EndpointSlice addresses of local backends (see proxy/sources/address-map.ts), and the Lease holder
   *  identity kept in the state directory (a restart over kept state holds the Lease at once) */
  local?: {
    stateDir: string;
    caPem: string;
    endpointAddressMap?: Record<string, string>;
    identity?: string;
  };
  /** proxy worker processes (default 1: the proxy serves in this process) */
  proxyWorkers?: number;
}

export interface RunningComponent {
  name: string;
  /** lines `tenantgate local` prints under "Try it" */
  hints?: string[];
  stop(): Promise<void>;
}

/** What the process shares between its components: one admin server, one API client, and one
 *  informer factory, so the process holds one watch per kind whoever asks. */
interface StartArgs extends ComponentContext {
  admin: AdminServer;
  client: KubeClient;
  informers: InformerFactory;
  /** what earlier components offer later ones: the operator's Lease also decides who writes proxy status;
   *  the webhook's policy engine serves the proxy's AccessPolicies too (one engine, one set of bundles) */
  shared: { isLeader?: () => boolean; engine?: PolicyEngine };
}

type Starter = (args: StartArgs) => Promise<RunningComponent>;

const starters: Record<ComponentName, Starter> = {
  operator: async ({ kubeConfig, admin, client, informers, shared, local }) => {
    const { startOperator } = await import('../controllers/index.ts');
    const running = await startOperator({
      kubeConfig,
      admin,
      client,
      informers,
      ...(local?.identity ? { leaderElection: { identity: local.identity } } : {}),
    });
    shared.isLeader = () => running.isLeader();
    return { name: 'operator', stop: () => running.stop() };
  },
  webhook: async ({ kubeConfig, admin, client, informers, local, shared }) => {
    const { startWebhook } = await import('../webhooks/index.ts');
    const running = await startWebhook({
      kubeConfig,
      admin,
      client,
      informers,
      ...(local ? { local: { stateDir: local.stateDir, caPem: local.caPem } } : {}),
    });
    shared.engine = running.engine;
    return {
      name: 'webhook',
      hints: [
        ...(running.auditPageUrl ? [`open ${running.auditPageUrl}   # the auditors' page`] : []),
        'node dist/cmd/tenantgate.js audit --since 1h       # refused changes, from the audit API',
      ],
      stop: () => running.stop(),
    };
  },
  proxy: async ({ admin, client, informers, shared, local, proxyWorkers }) => {
    const { startProxy } = await import('../proxy/index.ts');
    // Every replica serves traffic, but only one writes Gateway API and policy status: the operator's
    // leader when the operator runs here, else the holder of a Lease of the proxies' own.
    const election = shared.isLeader ? undefined : proxyStatusElection(client, local?.identity);
    const isLeader = shared.isLeader ?? (() => election!.isLeader());
    const running = await startProxy({
      source: { kind: 'cluster', informers, endpointAddressMap: local?.endpointAddressMap },
      admin,
      writeStatus: { client, isLeader },
      workers: proxyWorkers ?? 1,
      // workers load their own engine: the webhook's cannot be shared across processes
      ...(shared.engine && (proxyWorkers ?? 1) <= 1 ? { policies: { engine: shared.engine } } : {}),
    });
    return {
      name: 'proxy',
      hints: ['curl -H "Host: acme.example.com" http://127.0.0.1:10080/hello   # the sample route'],
      stop: async () => {
        await running.stop();
        await election?.stop();
      },
    };
  },
};

function proxyStatusElection(client: KubeClient, identity: string | undefined): LeaderElector {
  const elector = new LeaderElector({
    client,
    ...(identity ? { identity } : {}),
    namespace: operatorNamespace(),
    name: 'tenantgate-proxy-status',
    onStartedLeading: () => {},
    onStoppedLeading: () => {},
  });
  elector.start();
  return elector;
}

export function parseComponents(list: string): ComponentName[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!(COMPONENT_NAMES as readonly string[]).includes(n))
      throw new UnknownComponentError([n, COMPONENT_NAMES.join(', ')]);
  }
  return [...new Set(names)] as ComponentName[];
}

/**
 * Starts the shared parts, then each component in order; on a failure stops what had started. The result
 * is in start order: stop it in reverse.
 */
export async function startComponents(
  names: ComponentName[],
  ctx: ComponentContext,
): Promise<RunningComponent[]> {
  const admin = await startAdminServer({ address: ctx.adminAddress });
  const client = new KubeClient({ kubeConfig: ctx.kubeConfig });
  const informers = new InformerFactory({ client });
  const running: RunningComponent[] = [
    { name: 'admin server', stop: () => admin.close() },
    { name: 'kube client', stop: () => client.close() },
    { name: 'informers', stop: () => informers.stop() },
  ];
  try {
    // started first: informers asked for later start at once, so a component may wait for its caches
    informers.start();
    const shared = {};
    for (const name of names)
      running.push(await starters[name]({ ...ctx, admin, client, informers, shared }));
  } catch (err) {
    for (const c of running.reverse()) await c.stop().catch(() => {});
    throw err;
  }
  return running;
}
