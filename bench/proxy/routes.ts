// Synthetic Gateway API objects for the proxy benchmarks: one Gateway (one HTTP listener), one backend
// Service with a static EndpointSlice, and N HTTPRoutes spread over N/10 hostnames, each route with a
// PathPrefix, an Exact path and a header-matched rule, so lookups exercise the host index, the path
// indexes and precedence rather than a single flat list.
import type { KubeObject } from '../../proxy/model/gateway-api.ts';

export interface BenchRoutesOptions {
  routes: number;
  listenerPort: number;
  backendAddress: string;
  backendPort: number;
  namespace?: string;
}

export const hostOf = (i: number): string => `svc-${Math.floor(i / 10)}.bench.example.com`;
export const prefixOf = (i: number): string => `/app-${i % 10}`;

export function benchObjects(o: BenchRoutesOptions): KubeObject[] {
  const ns = o.namespace ?? 'bench';
  const objects: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'tenantgate' },
      spec: { controllerName: 'tenantgate.io/gateway-controller' },
    } as KubeObject,
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'bench', namespace: ns },
      spec: {
        gatewayClassName: 'tenantgate',
        addresses: [{ type: 'IPAddress', value: '127.0.0.1' }],
        listeners: [
          {
            name: 'http',
            port: o.listenerPort,
            protocol: 'HTTP',
            allowedRoutes: { namespaces: { from: 'Same' } },
          },
        ],
      },
    } as KubeObject,
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'backend', namespace: ns },
      spec: { ports: [{ name: 'http', port: 80, targetPort: o.backendPort }] },
    } as KubeObject,
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'backend-1', namespace: ns, labels: { 'kubernetes.io/service-name': 'backend' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [o.backendAddress], conditions: { ready: true } }],
      ports: [{ name: 'http', port: o.backendPort, protocol: 'TCP' }],
    } as KubeObject,
  ];
  for (let i = 0; i < o.routes; i++) {
    objects.push({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: {
        name: `route-${i}`,
        namespace: ns,
        creationTimestamp: new Date(1_700_000_000_000 + i * 1000).toISOString(),
      },
      spec: {
        parentRefs: [{ name: 'bench' }],
        hostnames: [hostOf(i)],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: prefixOf(i) } }],
            backendRefs: [{ name: 'backend', port: 80 }],
          },
          {
            matches: [{ path: { type: 'Exact', value: `${prefixOf(i)}/exact` } }],
            backendRefs: [{ name: 'backend', port: 80 }],
          },
          {
            matches: [
              {
                path: { type: 'PathPrefix', value: prefixOf(i) },
                headers: [{ name: 'x-canary', value: 'true' }],
              },
            ],
            backendRefs: [{ name: 'backend', port: 80 }],
          },
        ],
      },
    } as KubeObject);
  }
  return objects;
}
