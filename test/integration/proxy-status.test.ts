// The proxy in cluster mode against a real API server: it reads Gateways, routes and Services through the
// informers and writes the Gateway API status they imply — route parents Accepted/ResolvedRefs with the
// spec's reasons and the latest observedGeneration, listener attachedRoutes, GatewayClass Accepted — and
// serves the routes it accepted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObject, createObject } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { KINDS } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import type { RunningProxy } from '../../proxy/index.ts';
import { testKubeConfig } from '../env/test-cluster.ts';
import { freePort, request, type EchoBackend } from '../e2e/proxy-harness.ts';
import { gatewayObjects, GW, startClusterProxy, startLoopbackEcho } from './cluster-proxy-fixtures.ts';
import { eventually, get, uniqueName } from './tenant-fixtures.ts';

const nsA = uniqueName('gw-a');
const nsB = uniqueName('gw-b');
const className = uniqueName('tenantgate');
let client: KubeClient;
let proxy: RunningProxy;
let backend: EchoBackend;
let port1: number, port2: number;

interface Cond {
  type: string;
  status: string;
  reason: string;
  observedGeneration?: number;
}
type Route = KubeObject & {
  status?: {
    parents?: {
      parentRef: { name: string; sectionName?: string };
      controllerName: string;
      conditions: Cond[];
    }[];
  };
};
type Gateway = KubeObject & {
  status?: {
    listeners?: { name: string; attachedRoutes: number; conditions: Cond[] }[];
    conditions?: Cond[];
    addresses?: unknown[];
  };
};

const route = (namespace: string, name: string, spec: Record<string, unknown>) => ({
  apiVersion: GW,
  kind: 'HTTPRoute',
  metadata: { name, namespace },
  spec,
});

async function parentCondition(namespace: string, name: string, type: string): Promise<Cond | undefined> {
  const r = await get<Route>(client, KINDS.HTTPRoute, name, namespace);
  return r?.status?.parents
    ?.find((p) => p.controllerName === 'tenantgate.io/gateway-controller')
    ?.conditions.find((c) => c.type === type);
}

beforeAll(async () => {
  client = new KubeClient({ kubeConfig: testKubeConfig() });
  backend = await startLoopbackEcho('cluster-backend');
  [port1, port2] = [await freePort(), await freePort()];
  for (const name of [nsA, nsB])
    await createObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const objects = [
    ...gatewayObjects({
      className,
      namespace: nsA,
      listeners: [
        { name: 'same', port: port1, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } },
        {
          name: 'all',
          port: port2,
          protocol: 'HTTP',
          hostname: 'x.example',
          allowedRoutes: { namespaces: { from: 'All' } },
        },
      ],
      backend,
    }),
    route(nsA, 'ok', {
      parentRefs: [{ name: 'gw', sectionName: 'same' }],
      rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }],
    }),
    route(nsA, 'missing-backend', {
      parentRefs: [{ name: 'gw', sectionName: 'same' }],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/missing' } }],
          backendRefs: [{ name: 'nope', port: 80 }],
        },
      ],
    }),
    route(nsA, 'no-such-listener', {
      parentRefs: [{ name: 'gw', sectionName: 'nope' }],
      rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }],
    }),
    route(nsB, 'other-namespace', {
      parentRefs: [{ name: 'gw', namespace: nsA, sectionName: 'same' }],
      rules: [{ backendRefs: [{ name: 'svc', namespace: nsA, port: 80 }] }],
    }),
    route(nsB, 'no-grant', {
      parentRefs: [{ name: 'gw', namespace: nsA, sectionName: 'all' }],
      rules: [{ backendRefs: [{ name: 'svc', namespace: nsA, port: 80 }] }],
    }),
    route(nsB, 'wrong-host', {
      parentRefs: [{ name: 'gw', namespace: nsA, sectionName: 'all' }],
      hostnames: ['y.example'],
      rules: [{ backendRefs: [{ name: 'svc', namespace: nsA, port: 80 }] }],
    }),
  ];
  for (const o of objects) await applyObject(client, o as never);
  proxy = await startClusterProxy({ source: { kubeConfig: testKubeConfig() }, writeStatus: { client } });
}, 120_000);

afterAll(async () => {
  await proxy?.stop();
  await backend?.close();
  client?.close();
});

describe('status written by the proxy', () => {
  it('accepts a valid route, with resolved refs, at the latest generation', async () => {
    const accepted = await eventually(
      async () =>
        (await parentCondition(nsA, 'ok', 'Accepted'))?.status === 'True' &&
        (await parentCondition(nsA, 'ok', 'Accepted')),
      { what: 'ok Accepted' },
    );
    expect(accepted).toMatchObject({ reason: 'Accepted', observedGeneration: 1 });
    expect(await parentCondition(nsA, 'ok', 'ResolvedRefs')).toMatchObject({
      status: 'True',
      reason: 'ResolvedRefs',
    });
  });

  it('gives the spec reasons for routes it cannot accept or resolve', async () => {
    const want: [string, string, string, string, string][] = [
      [nsA, 'missing-backend', 'ResolvedRefs', 'False', 'BackendNotFound'],
      [nsA, 'no-such-listener', 'Accepted', 'False', 'NoMatchingParent'],
      [nsB, 'other-namespace', 'Accepted', 'False', 'NotAllowedByListeners'],
      [nsB, 'no-grant', 'ResolvedRefs', 'False', 'RefNotPermitted'],
      [nsB, 'wrong-host', 'Accepted', 'False', 'NoMatchingListenerHostname'],
    ];
    for (const [ns, name, type, status, reason] of want) {
      await eventually(
        async () => {
          const c = await parentCondition(ns, name, type);
          return c?.status === status && c.reason === reason;
        },
        { what: `${name} ${type}=${status}/${reason}` },
      );
    }
  });

  it('reports listener attachedRoutes and conditions, the Gateway and the GatewayClass', async () => {
    const gw = await eventually(
      async () => {
        const g = await get<Gateway>(client, KINDS.Gateway, 'gw', nsA);
        return g?.status?.listeners?.length === 2 ? g : undefined;
      },
      { what: 'Gateway listener status' },
    );
    const byName = Object.fromEntries(gw.status!.listeners!.map((l) => [l.name, l]));
    expect(byName.same!.attachedRoutes).toBe(2); // ok, missing-backend
    expect(byName.all!.attachedRoutes).toBe(1); // no-grant (attached, refs unresolved)
    expect(byName.same!.conditions.find((c) => c.type === 'Programmed')?.status).toBe('True');
    expect(gw.status!.conditions?.find((c) => c.type === 'Accepted')?.status).toBe('True');
    expect(gw.status!.addresses).toEqual([{ type: 'IPAddress', value: '127.0.0.1' }]);
    const gc = await eventually(
      async () => {
        const c = await get<KubeObject & { status?: { conditions?: Cond[] } }>(
          client,
          KINDS.GatewayClass,
          className,
        );
        return c?.status?.conditions?.find((x) => x.type === 'Accepted' && x.status === 'True');
      },
      { what: 'GatewayClass Accepted' },
    );
    expect(gc.reason).toBe('Accepted');
  });

  it('serves what it accepted, and follows a spec change (new generation) in status and traffic', async () => {
    await eventually(
      async () =>
        (await request(port1, '/hello').catch(() => undefined))?.echo?.backend === 'cluster-backend',
      { what: 'traffic through the proxy' },
    );
    expect((await request(port1, '/missing')).status).toBe(500);
    await applyObject(
      client,
      route(nsA, 'missing-backend', {
        parentRefs: [{ name: 'gw', sectionName: 'same' }],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/missing' } }],
            backendRefs: [{ name: 'svc', port: 80 }],
          },
        ],
      }) as never,
    );
    await eventually(
      async () => {
        const c = await parentCondition(nsA, 'missing-backend', 'ResolvedRefs');
        return c?.status === 'True' && c.observedGeneration === 2;
      },
      { what: 'ResolvedRefs True at generation 2' },
    );
    await eventually(async () => (await request(port1, '/missing')).status === 200, {
      what: '/missing served',
    });
  });
});
