// apiVersion + kind -> REST path. The kinds tenantgate uses are catalogued here (no discovery round trip,
// and one place that says which version of each kind the project reads: use these constants so that
// every component asks the shared informer factory for the same apiVersion). Other kinds are resolved
// through discovery (GET /api/v1 or /apis/GROUP/VERSION), cached per group-version.
import { defineError } from '../lib/errors.ts';

export interface KindRef {
  apiVersion: string;
  kind: string;
}

export interface ResourceInfo extends KindRef {
  /** plural resource name, e.g. "referencegrants" */
  plural: string;
  namespaced: boolean;
}

export const UnknownKindError = defineError(
  'TG_KUBE_UNKNOWN_KIND',
  'the API server does not serve %s in %s%s (is its CRD installed?)',
);

const k = (apiVersion: string, kind: string, plural: string, namespaced: boolean): ResourceInfo => ({
  apiVersion,
  kind,
  plural,
  namespaced,
});

/** The kinds tenantgate reads or writes, at the version the whole project uses. */
export const KINDS = {
  Namespace: k('v1', 'Namespace', 'namespaces', false),
  Service: k('v1', 'Service', 'services', true),
  ConfigMap: k('v1', 'ConfigMap', 'configmaps', true),
  Secret: k('v1', 'Secret', 'secrets', true),
  Pod: k('v1', 'Pod', 'pods', true),
  ServiceAccount: k('v1', 'ServiceAccount', 'serviceaccounts', true),
  CoreEvent: k('v1', 'Event', 'events', true),
  Event: k('events.k8s.io/v1', 'Event', 'events', true),
  EndpointSlice: k('discovery.k8s.io/v1', 'EndpointSlice', 'endpointslices', true),
  Lease: k('coordination.k8s.io/v1', 'Lease', 'leases', true),
  ClusterRole: k('rbac.authorization.k8s.io/v1', 'ClusterRole', 'clusterroles', false),
  ClusterRoleBinding: k('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'clusterrolebindings', false),
  Role: k('rbac.authorization.k8s.io/v1', 'Role', 'roles', true),
  RoleBinding: k('rbac.authorization.k8s.io/v1', 'RoleBinding', 'rolebindings', true),
  SubjectAccessReview: k('authorization.k8s.io/v1', 'SubjectAccessReview', 'subjectaccessreviews', false),
  CustomResourceDefinition: k(
    'apiextensions.k8s.io/v1',
    'CustomResourceDefinition',
    'customresourcedefinitions',
    false,
  ),
  ValidatingWebhookConfiguration: k(
    'admissionregistration.k8s.io/v1',
    'ValidatingWebhookConfiguration',
    'validatingwebhookconfigurations',
    false,
  ),
  GatewayClass: k('gateway.networking.k8s.io/v1', 'GatewayClass', 'gatewayclasses', false),
  Gateway: k('gateway.networking.k8s.io/v1', 'Gateway', 'gateways', true),
  HTTPRoute: k('gateway.networking.k8s.io/v1', 'HTTPRoute', 'httproutes', true),
  GRPCRoute: k('gateway.networking.k8s.io/v1', 'GRPCRoute', 'grpcroutes', true),
  // served as v1 since Gateway API 1.5 (storage is still v1beta1); v1 is what we read and write
  ReferenceGrant: k('gateway.networking.k8s.io/v1', 'ReferenceGrant', 'referencegrants', true),
  Tenant: k('tenantgate.io/v1alpha1', 'Tenant', 'tenants', false),
  RateLimitPolicy: k('tenantgate.io/v1alpha1', 'RateLimitPolicy', 'ratelimitpolicies', true),
  AccessPolicy: k('tenantgate.io/v1alpha1', 'AccessPolicy', 'accesspolicies', true),
} as const satisfies Record<string, ResourceInfo>;

const catalogue = new Map<string, ResourceInfo>(Object.values(KINDS).map((r) => [kindKey(r), r]));

export function kindKey(ref: KindRef): string {
  return `${ref.apiVersion}/${ref.kind}`;
}

/** "/api/v1" or "/apis/GROUP/VERSION" */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

export interface PathParts {
  namespace?: string;
  name?: string;
  subresource?: string;
}

/** The REST path of a collection (no name) or an object; cluster-scoped kinds ignore the namespace. */
export function resourcePath(info: ResourceInfo, parts: PathParts = {}): string {
  let path = groupVersionPath(info.apiVersion);
  if (info.namespaced && parts.namespace) path += `/namespaces/${encodeURIComponent(parts.namespace)}`;
  path += `/${info.plural}`;
  if (parts.name !== undefined) path += `/${encodeURIComponent(parts.name)}`;
  if (parts.subresource) path += `/${parts.subresource}`;
  return path;
}

/** The catalogued ResourceInfo of a kind, or undefined (then ask the resolver, which uses discovery). */
export function knownResource(ref: KindRef): ResourceInfo | undefined {
  return catalogue.get(kindKey(ref));
}

interface APIResourceList {
  resources?: { name: string; kind: string; namespaced: boolean }[];
}

/** Resolves kinds outside the catalogue with discovery; `fetchJson` is the client's GET. */
export class ResourceResolver {
  readonly #fetchJson: (path: string) => Promise<unknown>;
  readonly #groupVersions = new Map<string, Promise<APIResourceList>>();

  constructor(fetchJson: (path: string) => Promise<unknown>) {
    this.#fetchJson = fetchJson;
  }

  async resolve(ref: KindRef): Promise<ResourceInfo> {
    const known = knownResource(ref);
    if (known) return known;
    let found: ReturnType<typeof findKind>;
    try {
      found = findKind(await this.#discover(ref.apiVersion, false), ref);
      // a CRD may have been installed after our first look
      found ??= findKind(await this.#discover(ref.apiVersion, true), ref);
    } catch (err) {
      throw new UnknownKindError([ref.kind, ref.apiVersion, `: ${(err as Error).message}`], { cause: err });
    }
    if (!found) throw new UnknownKindError([ref.kind, ref.apiVersion, '']);
    return { apiVersion: ref.apiVersion, kind: ref.kind, plural: found.name, namespaced: found.namespaced };
  }

  /**
   * Whether the API server serves the kind now (fresh discovery, so a CRD installed since is seen). A
   * group-version it does not serve at all rejects with the API server's 404.
   */
  async isServed(ref: KindRef): Promise<boolean> {
    return findKind(await this.#discover(ref.apiVersion, true), ref) !== undefined;
  }

  #discover(apiVersion: string, refresh: boolean): Promise<APIResourceList> {
    let pending = refresh ? undefined : this.#groupVersions.get(apiVersion);
    if (!pending) {
      pending = this.#fetchJson(groupVersionPath(apiVersion)).then(
        (body) => body as APIResourceList,
        (err: unknown) => {
          this.#groupVersions.delete(apiVersion);
          throw err;
        },
      );
      this.#groupVersions.set(apiVersion, pending);
    }
    return pending;
  }
}

function findKind(list: APIResourceList, ref: KindRef) {
  // subresources (e.g. "tenants/status") report the parent kind too; skip them
  return list.resources?.find((r) => r.kind === ref.kind && !r.name.includes('/'));
}
