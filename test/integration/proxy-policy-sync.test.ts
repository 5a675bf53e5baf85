// The proxy never serves a route before the policies attached to it have been read. Policy CRDs are
// optional (a cluster may not have installed them), but when the API server serves them the proxy waits
// for them before its first route table: otherwise a restart or a slow watch opens a window in which a
// route guarded by an AccessPolicy answers everyone. The test tries to walk through that window: the
// route and its AccessPolicy exist before the proxy starts, and the first answer the listener gives to a
// client outside the allowed range must already be the refusal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObject, createObject } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { KINDS } from '../../kube/resources.ts';
import type { RunningProxy } from '../../proxy/index.ts';
import { servedKinds } from '../../proxy/sources/cluster.ts';
import { testKubeConfig } from '../env/test-cluster.ts';
import { freePort, request, type EchoBackend } from '../e2e/proxy-harness.ts';
import {
  deleteGatewayObjects,
  guardedRouteObjects,
  startClusterProxy,
  startLoopbackEcho,
} from './cluster-proxy-fixtures.ts';
import { uniqueName } from './tenant-fixtures.ts';

const ns = uniqueName('policy-sync');
const className = uniqueName('tenantgate');
const CONTROLLER = `tenantgate.io/${uniqueName('policy-sync')}`;

let client: KubeClient;
let backend: EchoBackend;
let proxy: RunningProxy | undefined;
let port: number;

beforeAll(async () => {
  client = new KubeClient({ kubeConfig: testKubeConfig() });
  backend = await startLoopbackEcho('policy-sync-backend');
  port = await freePort();
  await createObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const objects = guardedRouteObjects({
    className,
    controllerName: CONTROLLER,
    namespace: ns,
    port,
    backend,
    policy: { name: 'private-only', rule: 'allow-cidrs', parameters: { cidrs: ['10.0.0.0/8'] } },
  });
  for (const o of objects) await applyObject(client, o as never);
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await backend?.close();
  await deleteGatewayObjects(client, ns, className);
  await client?.close();
});

describe('the proxy waits for the policies the API server serves', () => {
  it('counts a kind as served only when discovery lists it', async () => {
    const served = await servedKinds(client, [
      KINDS.AccessPolicy,
      KINDS.RateLimitPolicy,
      KINDS.GRPCRoute,
      { apiVersion: 'nothere.tenantgate.io/v1', kind: 'Nothing' },
      { apiVersion: 'tenantgate.io/v1alpha1', kind: 'NotAKind' },
    ]);
    expect(served.map((k) => k.kind)).toEqual(['AccessPolicy', 'RateLimitPolicy', 'GRPCRoute']);
  });

  it('answers its very first request on a guarded route with the AccessPolicy refusal', async () => {
    proxy = await startClusterProxy({ source: { kubeConfig: testKubeConfig() }, controllerName: CONTROLLER });
    // the first answer that is not "nothing listening yet" / "no route yet" must already be the refusal
    const deadline = Date.now() + 30_000;
    let first: { status: number; body: string } | undefined;
    while (Date.now() < deadline) {
      const r = await request(port, '/', { host: 'any.test' }).catch(() => undefined);
      if (r && r.status !== 404) {
        first = r;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(first?.status).toBe(403);
    expect(first?.body).toContain(`(AccessPolicy ${ns}/private-only)`);
    expect(backend.received).toHaveLength(0);
  });
});
