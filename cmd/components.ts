// The components one tenantgate process can run, and how `run` and `local` start them. Each loads
// lazily so a process only imports what it runs (the proxy never loads the controllers).
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from '../kube/client.ts';
import { InformerFactory } from '../kube/informer-factory.ts';
import { startAdminServer, type AdminServer } from '../lib/admin-server.ts';
import { defineError } from '../lib/errors.ts';

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
  /** set by `tenantgate local`: where to keep local state, and the local cluster's CA */
  local?: { stateDir: string; caPem: string };
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
}

type Starter = (args: StartArgs) => Promise<RunningComponent>;

const starters: Record<ComponentName, Starter> = {
  operator: async ({ kubeConfig, admin, client, informers }) => {
    const { startOperator } = await import('../controllers/index.ts');
    const running = await startOperator({ kubeConfig, admin, client, informers });
    return { name: 'operator', stop: () => running.stop() };
  },
  webhook: async ({ kubeConfig, admin, client, informers, local }) => {
    const { startWebhook } = await import('../webhooks/index.ts');
    const running = await startWebhook({ kubeConfig, admin, client, informers, ...(local ? { local } : {}) });
    return { name: 'webhook', stop: () => running.stop() };
  },
  proxy: async ({ kubeConfig, admin, client, informers }) => {
    const { startProxy } = await import('../proxy/index.ts');
    const running = await startProxy({ source: { kind: 'cluster', kubeConfig, informers }, admin, writeStatus: { client } });
    return {
      name: 'proxy',
      hints: ['curl -H "Host: www.example.com" http://127.0.0.1:10080/   # after applying config/samples/'],
      stop: () => running.stop(),
    };
  },
};

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
export async function startComponents(names: ComponentName[], ctx: ComponentContext): Promise<RunningComponent[]> {
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
    for (const name of names) running.push(await starters[name]({ ...ctx, admin, client, informers }));
  } catch (err) {
    for (const c of running.reverse()) await c.stop().catch(() => {});
    throw err;
  }
  return running;
}
