// The components one tenantgate process can run, and how `run` and `local` start them. Each loads
// lazily so a process only imports what it runs (the proxy never loads the controllers).
import type { KubeConfig } from '@kubernetes/client-node';
import { defineError } from '../lib/errors.ts';
import {
  buildSharedServices,
  OPERATOR_LEASE,
  type ComponentName,
  type SharedServices,
} from './shared-services.ts';

export const COMPONENT_NAMES = ['operator', 'webhook', 'proxy'] as const satisfies readonly ComponentName[];
export type { ComponentName };

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

/** A component gets the context and the process's shared services (built before any component starts). */
interface StartArgs extends ComponentContext {
  shared: SharedServices;
}

type Starter = (args: StartArgs) => Promise<RunningComponent>;

const starters: Record<ComponentName, Starter> = {
  operator: async ({ kubeConfig, shared }) => {
    const { startOperator } = await import('../controllers/index.ts');
    const running = await startOperator({
      kubeConfig,
      admin: shared.admin,
      client: shared.client,
      informers: shared.informers,
      leaderElection: { name: OPERATOR_LEASE, identity: shared.leadership.identity },
    });
    shared.leadership.operatorStarted(running);
    return { name: 'operator', stop: () => running.stop() };
  },
  webhook: async ({ kubeConfig, local, shared }) => {
    const { startWebhook } = await import('../webhooks/index.ts');
    const running = await startWebhook({
      kubeConfig,
      admin: shared.admin,
      client: shared.client,
      informers: shared.informers,
      ...(shared.engine ? { engine: shared.engine } : {}),
      ...(local ? { local: { stateDir: local.stateDir, caPem: local.caPem } } : {}),
    });
    return {
      name: 'webhook',
      hints: [
        ...(running.auditPageUrl ? [`open ${running.auditPageUrl}   # the auditors' page`] : []),
        'node dist/cmd/tenantgate.js audit --since 1h       # refused changes, from the audit API',
      ],
      stop: () => running.stop(),
    };
  },
  proxy: async ({ local, shared, proxyWorkers }) => {
    const { startProxy } = await import('../proxy/index.ts');
    // Every replica serves traffic, but only the holder of the status Lease writes Gateway API and policy
    // status (the operator's when it runs here, else the proxies' own: see planSharedServices)
    const running = await startProxy({
      source: { kind: 'cluster', informers: shared.informers, endpointAddressMap: local?.endpointAddressMap },
      admin: shared.admin,
      writeStatus: { client: shared.client, isLeader: () => shared.leadership.isLeader() },
      workers: proxyWorkers ?? 1,
      // workers load their own engine: the webhook's cannot be shared across processes
      ...(shared.engine && (proxyWorkers ?? 1) <= 1 ? { policies: { engine: shared.engine } } : {}),
    });
    return {
      name: 'proxy',
      hints: ['curl -H "Host: acme.example.com" http://127.0.0.1:10080/hello   # the sample route'],
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
 * Builds the shared services for the whole set of components, then starts each component in order (the
 * order changes nothing they share); on a failure stops what had started. The result is in start order:
 * stop it in reverse.
 */
export async function startComponents(
  names: ComponentName[],
  ctx: ComponentContext,
): Promise<RunningComponent[]> {
  const shared = await buildSharedServices(names, {
    kubeConfig: ctx.kubeConfig,
    adminAddress: ctx.adminAddress,
    ...(ctx.local?.identity ? { identity: ctx.local.identity } : {}),
  });
  const running: RunningComponent[] = [{ name: 'shared services', stop: () => shared.stop() }];
  try {
    for (const name of names) running.push(await starters[name]({ ...ctx, shared }));
  } catch (err) {
    for (const c of running.reverse()) await c.stop().catch(() => {});
    throw err;
  }
  return running;
}
