// Small builders for Gateway API objects, for tests, benchmarks and examples: they fill the boilerplate
// (apiVersion, kind, namespaces) and nothing else, so what a test sets is what it means.
import type {
  EndpointSlice,
  Gateway,
  GatewayClass,
  GRPCRoute,
  HTTPRoute,
  KubeObject,
  Listener,
  ReferenceGrant,
  Service,
  ServicePort,
} from './gateway-api.ts';

const GW = 'gateway.networking.k8s.io/v1';
export const CONTROLLER = 'tenantgate.io/gateway-controller';

export function gatewayClass(name = 'tenantgate', controllerName = CONTROLLER): GatewayClass {
  return { apiVersion: GW, kind: 'GatewayClass', metadata: { name }, spec: { controllerName } };
}

export function gateway(
  namespace: string,
  name: string,
  listeners: Listener[],
  extra: { addresses?: string[]; className?: string } = {},
): Gateway {
  return {
    apiVersion: GW,
    kind: 'Gateway',
    metadata: { name, namespace },
    spec: {
      gatewayClassName: extra.className ?? 'tenantgate',
      listeners,
      ...(extra.addresses
        ? { addresses: extra.addresses.map((value) => ({ type: 'IPAddress', value })) }
        : {}),
    },
  };
}

export function httpListener(name: string, port: number, extra: Partial<Listener> = {}): Listener {
  return { name, port, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } }, ...extra };
}

export function httpRoute(
  namespace: string,
  name: string,
  spec: HTTPRoute['spec'],
  meta: { creationTimestamp?: string; generation?: number } = {},
): HTTPRoute {
  return { apiVersion: GW, kind: 'HTTPRoute', metadata: { name, namespace, ...meta }, spec };
}

export function grpcRoute(namespace: string, name: string, spec: GRPCRoute['spec']): GRPCRoute {
  return { apiVersion: GW, kind: 'GRPCRoute', metadata: { name, namespace }, spec };
}

/**
 * A Service with one port and its EndpointSlices: `endpoints` are "address:port" strings serving that
 * Service port (one slice per distinct target port).
 */
export function serviceObjects(
  namespace: string,
  name: string,
  port: number,
  endpoints: string[],
  extra: Partial<ServicePort> = {},
): KubeObject[] {
  const portName = extra.name ?? 'http';
  const svc: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { ports: [{ name: portName, port, protocol: 'TCP', ...extra }] },
  };
  const byPort = new Map<number, string[]>();
  for (const ep of endpoints) {
    const i = ep.lastIndexOf(':');
    const p = Number(ep.slice(i + 1));
    byPort.set(p, [...(byPort.get(p) ?? []), ep.slice(0, i)]);
  }
  const slices: EndpointSlice[] = [...byPort.entries()].map(([p, addresses], i) => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-${i}`, namespace, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
    ports: [
      {
        name: portName,
        port: p,
        protocol: 'TCP',
        ...(extra.appProtocol ? { appProtocol: extra.appProtocol } : {}),
      },
    ],
  }));
  return [svc, ...slices];
}

export function referenceGrant(
  namespace: string,
  name: string,
  spec: ReferenceGrant['spec'],
): ReferenceGrant {
  return {
    apiVersion: `${GW.split('/')[0]}/v1beta1`,
    kind: 'ReferenceGrant',
    metadata: { name, namespace },
    spec,
  };
}

export function namespace(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

export function tlsSecret(namespace: string, name: string, certPem: string, keyPem: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(certPem).toString('base64'),
      'tls.key': Buffer.from(keyPem).toString('base64'),
    },
  } as KubeObject;
}
