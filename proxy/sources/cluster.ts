// The in-cluster input source: the process's shared informers (kube/) for every kind the proxy reads,
// turned into one ProxyInputs snapshot after each burst of watch events. The kinds a proxy cannot work
// without must sync before the first snapshot. Optional ones (GRPCRoute and our policy CRDs, which a
// cluster may not have installed) must sync first too when the API server serves them: a route served
// before the AccessPolicies attached to it have been read would be served without them (fail open).
// Only a kind the API server does not serve at all joins later, when its CRD is installed.
import type { KubeConfig } from '@kubernetes/client-node';
import { componentLogger } from '../../lib/logger.ts';
import { isNotFound, KubeClient } from '../../kube/client.ts';
import { InformerFactory } from '../../kube/informer-factory.ts';
import { KINDS, type KindRef } from '../../kube/resources.ts';
import type { KubeObject } from '../model/gateway-api.ts';
import type { ProxyInputs } from '../model/inputs.ts';
import type { InputSource } from './source.ts';
import { mapEndpointAddresses, type EndpointAddressMap } from './address-map.ts';
import { onlyStatusChanged } from './status-only.ts';
import { debounce, type Debounced } from '../../lib/async.ts';
import { defineError } from '../../lib/errors.ts';

const ClusterSourceConfigError = defineError(
  'TG_PROXY_CLUSTER_SOURCE',
  'the cluster source needs informers or a kubeConfig (startProxy source: { kind: "cluster", ... })',
);

const log = componentLogger('proxy.cluster');

const REQUIRED: Record<string, KindRef> = {
  gatewayClasses: KINDS.GatewayClass,
  gateways: KINDS.Gateway,
  httpRoutes: KINDS.HTTPRoute,
  services: KINDS.Service,
  endpointSlices: KINDS.EndpointSlice,
  referenceGrants: KINDS.ReferenceGrant,
  secrets: KINDS.Secret,
  namespaces: KINDS.Namespace,
};

const OPTIONAL: Record<string, KindRef> = {
  grpcRoutes: KINDS.GRPCRoute,
  rateLimitPolicies: KINDS.RateLimitPolicy,
  accessPolicies: KINDS.AccessPolicy,
};

export interface ClusterSourceOptions {
  /** the process's shared informer factory (preferred: one watch per kind per process) */
  informers?: InformerFactory;
  /** used to build a client and a factory when none is given */
  kubeConfig?: KubeConfig;
  debounceMs?: number;
  syncTimeoutMs?: number;
  /** `tenantgate local` only: EndpointSlice addresses to translate (see address-map.ts) */
  endpointAddressMap?: EndpointAddressMap;
}

export function clusterSource(options: ClusterSourceOptions): InputSource {
  const owned = !options.informers;
  let informers = options.informers;
  const debounceMs = options.debounceMs ?? 100;
  const offs: (() => void)[] = [];
  let pendingEmit: Debounced | undefined;
  let stopped = false;

  const snapshot = (): ProxyInputs => {
    const lists: Record<string, KubeObject[]> = {};
    for (const [bucket, kind] of Object.entries({ ...REQUIRED, ...OPTIONAL })) {
      const informer = informers!.informer<KubeObject & { metadata: { name: string } }>(kind);
      lists[bucket] = informer.hasSynced() ? informer.list() : [];
    }
    if (options.endpointAddressMap) {
      lists['endpointSlices'] = mapEndpointAddresses(
        lists['endpointSlices'] ?? [],
        options.endpointAddressMap,
      );
    }
    return lists as unknown as ProxyInputs;
  };

  return {
    name: 'cluster',
    async start(emit) {
      if (!informers) {
        if (!options.kubeConfig) throw new ClusterSourceConfigError();
        informers = new InformerFactory({
          client: new KubeClient({ kubeConfig: options.kubeConfig, userAgent: 'tenantgate-proxy' }),
        });
      }
      const settle = debounce(() => emit(snapshot()), debounceMs);
      pendingEmit = settle;
      const schedule = () => void (stopped || settle());
      const all = [...Object.values(REQUIRED), ...Object.values(OPTIONAL)];
      for (const kind of all) {
        offs.push(
          informers.informer(kind).addHandlers({
            onAdd: schedule,
            // our own status writes come back as updates: they change nothing the compile reads
            onUpdate: (obj, old) => !onlyStatusChanged(obj, old) && schedule(),
            onDelete: schedule,
            onSynced: schedule,
          }),
        );
      }
      informers.start();
      const mustSync = [
        ...Object.values(REQUIRED),
        ...(await servedKinds(informers.client, Object.values(OPTIONAL))),
      ];
      try {
        await informers.waitForSync(mustSync, { timeoutMs: options.syncTimeoutMs ?? 120_000 });
      } catch (err) {
        log.error('the proxy cannot start without its informers', { pending: informers.pending(), err });
        throw err;
      }
      const pendingOptional = Object.values(OPTIONAL).filter((k) => !informers!.hasSynced([k]));
      if (pendingOptional.length)
        log.warn('optional kinds not synced yet (CRD not installed?); they join when they sync', {
          kinds: pendingOptional.map((k) => k.kind),
        });
      settle.cancel();
      emit(snapshot());
    },
    current: () => snapshot(),
    async stop() {
      stopped = true;
      pendingEmit?.cancel();
      for (const off of offs.splice(0)) off();
      if (owned) await informers?.stop();
    },
  };
}

/**
 * The kinds among `kinds` that the API server serves (discovery, through the client's resource resolver).
 * A kind whose group-version is not found is not served; any other failure counts as served, so the
 * proxy waits for it rather than starting without it.
 */
export async function servedKinds(client: KubeClient, kinds: readonly KindRef[]): Promise<KindRef[]> {
  const served: KindRef[] = [];
  for (const kind of kinds) {
    try {
      if (await client.resources.isServed(kind)) served.push(kind);
    } catch (err) {
      if (isNotFound(err)) continue;
      log.warn('could not tell whether the API server serves a kind; waiting for it', {
        kind: kind.kind,
        err,
      });
      served.push(kind);
    }
  }
  return served;
}
