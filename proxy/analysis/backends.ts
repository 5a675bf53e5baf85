// backendRef resolution: kind and group, ReferenceGrants for other namespaces, the Service and its port,
// and the ready endpoints of the EndpointSlices labelled with the Service name (the slice port whose name
// matches the Service port's name).
import { keyOf, referenceGranted, type InputsIndex } from './index-inputs.ts';
import {
  GATEWAY_GROUP,
  type BackendObjectReference,
  type Service,
  type ServicePort,
} from '../model/gateway-api.ts';

/** How the proxy talks to a backend: HTTP/1.1 (WebSocket upgrades included) or cleartext HTTP/2. */
export type BackendProtocol = 'http1' | 'h2c';

export interface Endpoint {
  address: string;
  port: number;
}

export type BackendResolution =
  | {
      ok: true;
      namespace: string;
      name: string;
      port: number;
      service: Service;
      servicePort: ServicePort;
      protocol: BackendProtocol;
      endpoints: Endpoint[];
    }
  | {
      ok: false;
      reason: 'InvalidKind' | 'RefNotPermitted' | 'BackendNotFound' | 'UnsupportedProtocol';
      message: string;
    };

export interface RouteRefSource {
  kind: 'HTTPRoute' | 'GRPCRoute';
  namespace: string;
  name: string;
}

function protocolFor(source: RouteRefSource, appProtocol: string | undefined): BackendProtocol {
  // GRPCRoute backends speak HTTP/2 without TLS (the spec requires h2c support for them)
  if (source.kind === 'GRPCRoute') return 'h2c';
  return appProtocol === 'kubernetes.io/h2c' ? 'h2c' : 'http1';
}

function endpointsOf(
  index: InputsIndex,
  namespace: string,
  service: Service,
  servicePort: ServicePort,
): Endpoint[] {
  const memoKey = `${namespace}/${service.metadata.name}|${servicePort.name ?? ''}`;
  const memo = index.endpointsMemo.get(memoKey) as Endpoint[] | undefined;
  if (memo) return memo;
  const out: Endpoint[] = [];
  index.endpointsMemo.set(memoKey, out);
  const seen = new Set<string>();
  const wantName = servicePort.name ?? '';
  for (const slice of index.slicesByService.get(keyOf(namespace, service.metadata.name)) ?? []) {
    if (slice.addressType === 'FQDN') continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === wantName);
    if (!port || port.port === undefined) continue;
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const address of ep.addresses ?? []) {
        const k = `${address}|${port.port}`;
        if (seen.has(k)) continue;
        seen.add(k);
        out.push({ address, port: port.port });
      }
    }
  }
  return out;
}

export function resolveBackendRef(
  index: InputsIndex,
  source: RouteRefSource,
  ref: BackendObjectReference,
): BackendResolution {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  const namespace = ref.namespace ?? source.namespace;
  const what = `backendRef ${namespace}/${ref.name}`;
  if ((group !== '' && group !== 'core') || kind !== 'Service') {
    return {
      ok: false,
      reason: 'InvalidKind',
      message: `${what}: kind ${group ? `${group}/` : ''}${kind} is not supported; only core Services are`,
    };
  }
  if (namespace !== source.namespace) {
    const granted = referenceGranted(index, {
      from: { group: GATEWAY_GROUP, kind: source.kind, namespace: source.namespace },
      to: { group: '', kind: 'Service', namespace, name: ref.name },
    });
    if (!granted) {
      return {
        ok: false,
        reason: 'RefNotPermitted',
        message: `${what}: no ReferenceGrant in namespace ${namespace} lets ${source.kind}s of ${source.namespace} reference it`,
      };
    }
  }
  const service = index.services.get(keyOf(namespace, ref.name));
  if (!service) return { ok: false, reason: 'BackendNotFound', message: `${what}: Service not found` };
  if (ref.port === undefined)
    return { ok: false, reason: 'BackendNotFound', message: `${what}: port is required for a Service` };
  const servicePort = (service.spec?.ports ?? []).find((p) => p.port === ref.port);
  if (!servicePort)
    return { ok: false, reason: 'BackendNotFound', message: `${what}: Service has no port ${ref.port}` };
  return {
    ok: true,
    namespace,
    name: ref.name,
    port: ref.port,
    service,
    servicePort,
    protocol: protocolFor(source, servicePort.appProtocol),
    endpoints: endpointsOf(index, namespace, service, servicePort),
  };
}
