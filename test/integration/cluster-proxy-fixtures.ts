// Shared setup of the integration tests that run the proxy in cluster mode against the real API server:
// an echo backend on loopback, the GatewayClass, Gateway, Service and EndpointSlice it is reached through,
// and the proxy started on them. The API server refuses loopback endpoint addresses: the EndpointSlice
// publishes a stand-in (TEST-NET) address that the proxy maps to the loopback backend, as `tenantgate
// local` does.
import { deleteObject, type Named } from '../../kube/apply.ts';
import type { KubeClient } from '../../kube/client.ts';
import {
  startProxy,
  type ProxyOptions,
  type ProxySourceOption,
  type RunningProxy,
} from '../../proxy/index.ts';
import { startEcho, type EchoBackend } from '../e2e/proxy-harness.ts';

export const GW = 'gateway.networking.k8s.io/v1';
export const STAND_IN_ADDRESS = '198.51.100.10';
export const DEFAULT_CONTROLLER = 'tenantgate.io/gateway-controller';

/** An echo backend on 127.0.0.1, to be published under STAND_IN_ADDRESS. */
export function startLoopbackEcho(name: string): Promise<EchoBackend> {
  return startEcho(name, { host: '127.0.0.1' });
}

export interface GatewayObjectsOptions {
  className: string;
  /** the GatewayClass's controllerName (DEFAULT_CONTROLLER) */
  controllerName?: string;
  namespace: string;
  /** listeners of Gateway `gw` */
  listeners: Record<string, unknown>[];
  backend: EchoBackend;
}

/**
 * The GatewayClass, Gateway `gw` (served on 127.0.0.1) and Service `svc` (port 80, named `http`), whose one
 * EndpointSlice reaches the backend through STAND_IN_ADDRESS.
 */
export function gatewayObjects(o: GatewayObjectsOptions): Named[] {
  return [
    {
      apiVersion: GW,
      kind: 'GatewayClass',
      metadata: { name: o.className },
      spec: { controllerName: o.controllerName ?? DEFAULT_CONTROLLER },
    },
    {
      apiVersion: GW,
      kind: 'Gateway',
      metadata: { name: 'gw', namespace: o.namespace },
      spec: {
        gatewayClassName: o.className,
        addresses: [{ type: 'IPAddress', value: '127.0.0.1' }],
        listeners: o.listeners,
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc', namespace: o.namespace },
      spec: { ports: [{ name: 'http', port: 80 }] },
    },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'svc-1', namespace: o.namespace, labels: { 'kubernetes.io/service-name': 'svc' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [STAND_IN_ADDRESS], conditions: { ready: true } }],
      ports: [{ name: 'http', port: o.backend.port, protocol: 'TCP' }],
    },
  ];
}

export interface GuardedRouteOptions extends Omit<GatewayObjectsOptions, 'listeners'> {
  /** the HTTP listener's port */
  port: number;
  /** the AccessPolicy guarding HTTPRoute `guarded` */
  policy: { name: string; rule: string; parameters: Record<string, unknown> };
}

/**
 * gatewayObjects with one HTTP listener, HTTPRoute `guarded` (every path to Service `svc`) and an
 * AccessPolicy on it: the setup of the tests that try to get past a data-path policy.
 */
export function guardedRouteObjects(o: GuardedRouteOptions): Named[] {
  const { port, policy, ...gateway } = o;
  return [
    ...gatewayObjects({ ...gateway, listeners: [{ name: 'http', port, protocol: 'HTTP' }] }),
    {
      apiVersion: GW,
      kind: 'HTTPRoute',
      metadata: { name: 'guarded', namespace: o.namespace },
      spec: {
        parentRefs: [{ name: 'gw' }],
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/' } }],
            backendRefs: [{ name: 'svc', port: 80 }],
          },
        ],
      },
    },
    {
      apiVersion: 'tenantgate.io/v1alpha1',
      kind: 'AccessPolicy',
      metadata: { name: policy.name, namespace: o.namespace },
      spec: {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'guarded' }],
        rule: policy.rule,
        parameters: policy.parameters,
      },
    },
  ];
}

/** Teardown of gatewayObjects: the test namespace and the GatewayClass (cluster-scoped), if they exist. */
export async function deleteGatewayObjects(
  client: KubeClient,
  namespace: string,
  className: string,
): Promise<void> {
  await deleteObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }).catch(
    () => {},
  );
  await deleteObject(client, { apiVersion: GW, kind: 'GatewayClass', metadata: { name: className } }).catch(
    () => {},
  );
}

type ClusterSource = Omit<Extract<ProxySourceOption, { kind: 'cluster' }>, 'kind' | 'endpointAddressMap'>;

export interface ClusterProxyOptions extends Omit<ProxyOptions, 'source' | 'bindAddress' | 'accessLog'> {
  /** kubeConfig or informers; the stand-in address map is added */
  source: ClusterSource;
}

/** The proxy in cluster mode on 127.0.0.1, access log off, STAND_IN_ADDRESS mapped to loopback. */
export function startClusterProxy(o: ClusterProxyOptions): Promise<RunningProxy> {
  const { source, ...rest } = o;
  return startProxy({
    ...rest,
    source: { kind: 'cluster', ...source, endpointAddressMap: { [STAND_IN_ADDRESS]: '127.0.0.1' } },
    bindAddress: '127.0.0.1',
    accessLog: { enabled: false },
  });
}
