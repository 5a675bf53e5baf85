// The object shapes the proxy reads: the one model in api/ (core kinds in api/kubernetes.ts, Gateway API
// kinds in api/gateway-api.ts). The proxy only sees objects that have a name, so its KubeObject is
// api's NamedObject.
export type { LabelSelector, ObjectMeta } from '../../api/common.ts';
export type {
  NamedObject as KubeObject,
  Namespace,
  Secret,
  Service,
  ServicePort,
  EndpointSlice,
} from '../../api/kubernetes.ts';
export * from '../../api/gateway-api.ts';
