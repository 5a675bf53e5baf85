// The policy engine's vocabulary, shared by admission (webhooks/), the data path (proxy/) and
// `tenantgate check`. Nothing here knows about HTTP or Kubernetes clients.

export const ENFORCEMENT_ACTIONS = ['deny', 'warn', 'dryrun'] as const;
/** deny: refuse the change; warn: accept it with a warning; dryrun: accept silently, record in the audit */
export type EnforcementAction = (typeof ENFORCEMENT_ACTIONS)[number];

/** One violation as a policy reports it: `message` reads "what is wrong — how to fix it". */
export interface Violation {
  policy: string;
  message: string;
  /** the bundle that reported it ("builtin" or a custom bundle's name) */
  bundle: string;
}

/** A violation with the enforcement action the platform team configured for its policy. */
export interface Decision extends Violation {
  action: EnforcementAction;
}

export interface AdmissionEvaluation {
  decisions: Decision[];
  /** true when some decision has action deny */
  denied: boolean;
  /** evaluation time of every bundle, in seconds */
  seconds: number;
}

/** A userInfo of an AdmissionRequest. */
export interface UserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The parts of an admission.k8s.io/v1 AdmissionRequest that policies read. */
export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
  requestKind?: { group: string; version: string; kind: string };
  name?: string;
  namespace?: string;
  operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  userInfo: UserInfo;
  object?: Record<string, unknown> | null;
  oldObject?: Record<string, unknown> | null;
  dryRun?: boolean;
  options?: unknown;
}

/** Input of a data-path rule (tenantgate/access/<rule>/decision); documented in docs/policies.md. */
export interface AccessInput {
  method: string;
  path: string;
  host: string;
  /** lower-cased names; repeated headers joined with ', ' */
  headers: Record<string, string>;
  source_ip: string;
  route: { kind: string; namespace: string; name: string };
  tenant?: string;
  /** the AccessPolicy's spec.parameters */
  parameters: Record<string, unknown>;
}

export interface AccessDecision {
  allow: boolean;
  /** the HTTP status to answer a refusal with (403) */
  status: number;
  reason: string;
}

/**
 * What a data-path rule declares it reads of a request, for given parameters: its decision is the same for
 * any two requests equal in these fields and headers (the parameters, fixed per policy, come on top).
 */
export interface AccessReads {
  fields: readonly AccessReadField[];
  /** lower-cased header names */
  headers: readonly string[];
}

export const ACCESS_READ_FIELDS = ['method', 'path', 'host', 'source_ip', 'route', 'tenant'] as const;
export type AccessReadField = (typeof ACCESS_READ_FIELDS)[number];

/** A data-path rule a bundle provides (from its tenantgate/access/catalog). */
export interface AccessRule {
  name: string;
  bundle: string;
  entrypoint: string;
  /** the entrypoint declaring which request fields the decision depends on (see AccessReads) */
  reads?: string;
  description: string;
  /** JSON schema of the AccessPolicy parameters the rule takes */
  schema: Record<string, unknown>;
}

/** One claim of a hostname by a route (inventory.hostname_claims). */
export interface HostnameClaim {
  tenant: string;
  kind: string;
  namespace: string;
  name: string;
}

/**
 * The data document policies read as data.inventory (built by policies/inventory.ts from informer
 * caches, or from files for `tenantgate check --data`). Indexed so that a review is a few look-ups.
 */
export interface Inventory {
  /** Tenant name -> its uid and spec */
  tenants: Record<string, { uid: string; spec: Record<string, unknown> }>;
  /** namespace -> the tenant that lists it */
  namespace_tenants: Record<string, string>;
  /** existing namespaces: labels, the uids of the Tenants among their owner references, and the Tenant
   *  a platform admin handed it to (annotation tenantgate.io/adopt-by), if any */
  namespaces: Record<
    string,
    { labels: Record<string, string>; tenant_owner_uids: string[]; adopt_by?: string }
  >;
  /** "user:NAME" / "group:NAME" -> tenants it owns (service accounts as user:system:serviceaccount:NS:NAME) */
  owner_index: Record<string, string[]>;
  /** hostname (lower-case, as written) -> routes of tenants claiming it */
  hostname_claims: Record<string, HostnameClaim[]>;
  /** tenant -> HTTPRoutes + GRPCRoutes in its namespaces */
  route_counts: Record<string, number>;
  /** label keys that Gateways the tenants use select route namespaces by */
  gateway_selector_labels: string[];
}

export function emptyInventory(): Inventory {
  return {
    tenants: {},
    namespace_tenants: {},
    namespaces: {},
    owner_index: {},
    hostname_claims: {},
    route_counts: {},
    gateway_selector_labels: [],
  };
}
