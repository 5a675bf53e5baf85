// The cluster source's first snapshot waits for every kind the API server serves, policy CRDs included:
// a route table built before the AccessPolicies were read would serve guarded routes unguarded. The
// informer factory is faked at its edge (which kinds have synced, what discovery answers), so the order
// of events is the test's, not the machine's.
import { describe, expect, it } from 'vitest';
import { KubeApiError, type KubeClient } from '../../kube/client.ts';
import type { InformerFactory } from '../../kube/informer-factory.ts';
import {
  groupVersionPath,
  KINDS,
  knownResource,
  ResourceResolver,
  type KindRef,
} from '../../kube/resources.ts';
import type { ProxyInputs } from '../model/inputs.ts';
import { clusterSource } from './cluster.ts';

/** Informers that sync when the test says; discovery serves the group-versions in `served`. */
function fakeInformers(served: readonly KindRef[]) {
  const synced = new Set<string>();
  const waiters: (() => void)[] = [];
  const key = (k: KindRef) => `${k.apiVersion}/${k.kind}`;
  const wake = () => waiters.splice(0).forEach((w) => w());
  // the real resolver over a fake discovery endpoint
  const client = {
    resources: new ResourceResolver(async (path) => {
      const kinds = served.filter((k) => groupVersionPath(k.apiVersion) === path);
      if (!kinds.length)
        throw new KubeApiError('GET', path, 404, { reason: 'NotFound', message: 'not served' });
      return { resources: kinds.map((k) => ({ name: knownResource(k)!.plural, kind: k.kind })) };
    }),
  } as unknown as KubeClient;
  const factory = {
    client,
    informer: (kind: KindRef) => ({
      addHandlers: () => () => {},
      hasSynced: () => synced.has(key(kind)),
      list: () => [],
    }),
    start() {},
    hasSynced: (kinds: KindRef[]) => kinds.every((k) => synced.has(key(k))),
    pending: () => [],
    async waitForSync(kinds: KindRef[]) {
      while (!kinds.every((k) => synced.has(key(k)))) await new Promise<void>((r) => waiters.push(r));
    },
  } as unknown as InformerFactory;
  return {
    factory,
    sync(...kinds: KindRef[]) {
      for (const k of kinds) synced.add(key(k));
      wake();
    },
  };
}

const REQUIRED = [
  KINDS.GatewayClass,
  KINDS.Gateway,
  KINDS.HTTPRoute,
  KINDS.Service,
  KINDS.EndpointSlice,
  KINDS.ReferenceGrant,
  KINDS.Secret,
  KINDS.Namespace,
];
const flush = () => new Promise((r) => setImmediate(r));

describe('clusterSource: the first snapshot', () => {
  it('waits for the policy kinds the API server serves', async () => {
    const served = [...REQUIRED, KINDS.GRPCRoute, KINDS.AccessPolicy, KINDS.RateLimitPolicy];
    const fake = fakeInformers(served);
    const emitted: ProxyInputs[] = [];
    const started = clusterSource({ informers: fake.factory, debounceMs: 1 }).start((i) => emitted.push(i));
    fake.sync(...REQUIRED, KINDS.GRPCRoute, KINDS.RateLimitPolicy);
    for (let i = 0; i < 20; i++) await flush();
    expect(emitted).toHaveLength(0); // AccessPolicies not read yet: no route table
    fake.sync(KINDS.AccessPolicy);
    await started;
    expect(emitted).toHaveLength(1);
  });

  it('starts without a policy kind the API server does not serve (its CRD is not installed)', async () => {
    const fake = fakeInformers([...REQUIRED, KINDS.GRPCRoute]);
    const emitted: ProxyInputs[] = [];
    const started = clusterSource({ informers: fake.factory, debounceMs: 1 }).start((i) => emitted.push(i));
    fake.sync(...REQUIRED, KINDS.GRPCRoute);
    await started;
    expect(emitted).toHaveLength(1);
  });
});
