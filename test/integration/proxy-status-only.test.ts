// The proxy's cluster source against a real API server: a snapshot for every change the compile reads
// (here a label), none for an update that changes only status — the proxy's own status writes, which
// used to come back as updates and trigger a recompile each. It counts every snapshot, so it runs on a
// control plane of its own: on the shared one, other files' objects make snapshots of their own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObject, applyStatus, createObject, mergePatch } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { InformerFactory } from '../../kube/informer-factory.ts';
import { KINDS } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import type { InputSource } from '../../proxy/sources/source.ts';
import { clusterSource } from '../../proxy/sources/cluster.ts';
import { STATUS_FIELD_MANAGER } from '../../proxy/status/writer.ts';
import { startControlPlane, type ControlPlane } from '../../kube/envtest/control-plane.ts';
import { crdPaths } from '../../kube/envtest/paths.ts';
import { GW } from './cluster-proxy-fixtures.ts';
import { eventually, uniqueName } from './tenant-fixtures.ts';

const ns = uniqueName('status-only');
const route = {
  apiVersion: GW,
  kind: 'HTTPRoute',
  metadata: { name: 'r', namespace: ns },
  spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] },
};
let controlPlane: ControlPlane;
let client: KubeClient;
let informers: InformerFactory;
let source: InputSource;
let emits = 0;

beforeAll(async () => {
  controlPlane = await startControlPlane({ crdPaths: crdPaths() });
  client = new KubeClient({ kubeConfig: controlPlane.kubeConfig() });
  await createObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await applyObject(client, route);
  informers = new InformerFactory({ client });
  // no debounce: an update that schedules a snapshot emits it before the next change can arrive
  source = clusterSource({ informers, debounceMs: 0 });
  await source.start(() => emits++);
  // the optional kinds join when they sync, with a snapshot: let that happen before counting
  await informers.waitForSync([KINDS.GRPCRoute, KINDS.RateLimitPolicy, KINDS.AccessPolicy], {
    timeoutMs: 60_000,
  });
  await eventually(() =>
    informers
      .informer(KINDS.HTTPRoute)
      .list()
      .some((r) => r.metadata?.namespace === ns),
  );
}, 120_000);

afterAll(async () => {
  await source?.stop();
  await informers?.stop();
  await client?.close();
  await controlPlane?.stop();
}, 60_000);

describe('cluster source', () => {
  it('emits no snapshot for a status-only update, and one for a label change', async () => {
    const before = emits;
    const written = await applyStatus<KubeObject>(
      client,
      route,
      {
        parents: [
          {
            parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' },
            controllerName: 'tenantgate.io/gateway-controller',
            conditions: [
              {
                type: 'Accepted',
                status: 'False',
                reason: 'NoMatchingParent',
                message: 'test',
                lastTransitionTime: '2026-01-01T00:00:00Z',
              },
            ],
          },
        ],
      },
      { fieldManager: STATUS_FIELD_MANAGER },
    );
    // the informer has seen the status write...
    await eventually(() =>
      informers
        .informer(KINDS.HTTPRoute)
        .list()
        .some((r) => r.metadata?.resourceVersion === written.metadata?.resourceVersion),
    );
    // ...then a change the compile reads, as a fence
    await mergePatch(client, route, { metadata: { labels: { fence: '1' } } });
    await eventually(() => emits > before, { what: 'a snapshot for the label change' });
    expect(emits).toBe(before + 1);
  });
});
