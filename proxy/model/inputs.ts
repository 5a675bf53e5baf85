// ProxyInputs: the plain snapshot of objects the proxy works from. The from-files source and (later) the
// informer source both produce one; a pure compiler turns it into an immutable route table and a pure
// status function into the Gateway API status it implies. Nothing here holds a connection or a timer.
import type { AccessPolicy } from '../../api/accesspolicy.ts';
import type { RateLimitPolicy } from '../../api/ratelimitpolicy.ts';
import type {
  EndpointSlice,
  Gateway,
  GatewayClass,
  GRPCRoute,
  HTTPRoute,
  KubeObject,
  Namespace,
  ReferenceGrant,
  Secret,
  Service,
} from './gateway-api.ts';

export interface ProxyInputs {
  gatewayClasses: readonly GatewayClass[];
  gateways: readonly Gateway[];
  httpRoutes: readonly HTTPRoute[];
  grpcRoutes: readonly GRPCRoute[];
  services: readonly Service[];
  endpointSlices: readonly EndpointSlice[];
  referenceGrants: readonly ReferenceGrant[];
  secrets: readonly Secret[];
  namespaces: readonly Namespace[];
  rateLimitPolicies: readonly RateLimitPolicy[];
  accessPolicies: readonly AccessPolicy[];
}

export function emptyInputs(): ProxyInputs {
  return {
    gatewayClasses: [],
    gateways: [],
    httpRoutes: [],
    grpcRoutes: [],
    services: [],
    endpointSlices: [],
    referenceGrants: [],
    secrets: [],
    namespaces: [],
    rateLimitPolicies: [],
    accessPolicies: [],
  };
}

type Bucket = keyof ProxyInputs;

/** Which ProxyInputs list an object of this apiVersion/kind belongs to (undefined: not ours to read). */
export function bucketFor(obj: { apiVersion?: string; kind?: string }): Bucket | undefined {
  const group = (obj.apiVersion ?? '').includes('/') ? (obj.apiVersion ?? '').split('/')[0] : '';
  switch (obj.kind) {
    case 'GatewayClass':
      return group === 'gateway.networking.k8s.io' ? 'gatewayClasses' : undefined;
    case 'Gateway':
      return group === 'gateway.networking.k8s.io' ? 'gateways' : undefined;
    case 'HTTPRoute':
      return group === 'gateway.networking.k8s.io' ? 'httpRoutes' : undefined;
    case 'GRPCRoute':
      return group === 'gateway.networking.k8s.io' ? 'grpcRoutes' : undefined;
    case 'ReferenceGrant':
      return group === 'gateway.networking.k8s.io' ? 'referenceGrants' : undefined;
    case 'Service':
      return group === '' ? 'services' : undefined;
    case 'Secret':
      return group === '' ? 'secrets' : undefined;
    case 'Namespace':
      return group === '' ? 'namespaces' : undefined;
    case 'EndpointSlice':
      return group === 'discovery.k8s.io' ? 'endpointSlices' : undefined;
    case 'RateLimitPolicy':
      return group === 'tenantgate.io' ? 'rateLimitPolicies' : undefined;
    case 'AccessPolicy':
      return group === 'tenantgate.io' ? 'accessPolicies' : undefined;
    default:
      return undefined;
  }
}

/** Sorts a flat list of objects into ProxyInputs; unknown kinds are returned separately. */
export function inputsFromObjects(objects: readonly KubeObject[]): {
  inputs: ProxyInputs;
  ignored: KubeObject[];
} {
  const lists: Record<Bucket, KubeObject[]> = emptyInputs() as unknown as Record<Bucket, KubeObject[]>;
  const ignored: KubeObject[] = [];
  for (const obj of objects) {
    const bucket = bucketFor(obj);
    if (bucket) lists[bucket].push(obj);
    else ignored.push(obj);
  }
  return { inputs: lists as unknown as ProxyInputs, ignored };
}
