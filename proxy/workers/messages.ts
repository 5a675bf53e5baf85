// The messages between the primary and its workers (over the cluster module's IPC channel). Everything
// in them is plain data: the route table travels as its IR.
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { AttachedPolicyInputs } from '../attached-policies.ts';
import type { ConsumeResult, CounterCheck } from '../ratelimit/store.ts';
import type { PolicySettings } from '../policy-settings.ts';
import type { BindProblem, ServingOptions } from '../serving.ts';
import type { RouteTableIR } from '../table/ir.ts';
import type { ConfigMapsMessage } from './configmap-relay.ts';

export type ToWorker =
  | { t: 'table'; ir: RouteTableIR; policyInputs: AttachedPolicyInputs }
  | { t: 'counted'; results: { id: number; result: ConsumeResult }[] }
  | { t: 'metrics'; id: number }
  | ConfigMapsMessage
  | { t: 'stop' };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'applied'; generation: number; bindErrors: BindProblem[]; error?: string }
  | { t: 'count'; asks: { id: number; checks: readonly CounterCheck[] }[] }
  | { t: 'metrics'; id: number; metrics: MetricObjectWithValues<MetricValue<string>>[] };

/** What a worker is started with (JSON in its environment): how to serve and how to build policies. */
export interface WorkerConfig {
  serving: Omit<ServingOptions, 'log' | 'reusePort'> & {
    accessLog: Omit<ServingOptions['accessLog'], 'write'>;
  };
  /** null: policies off */
  policies: PolicySettings | null;
  /** policy bundles come from ConfigMaps the primary relays (configmap-relay.ts) */
  relayedConfigMaps?: boolean;
}

export const WORKER_CONFIG_ENV = 'TENANTGATE_PROXY_WORKER_CONFIG';
