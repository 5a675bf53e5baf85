// The materialised route table the request pipeline reads: the IR (ir.ts) with its runtime objects
// (compiled RegExps, Sets and Maps, SecureContexts, policy instances) built by materialize.ts. One table
// per snapshot; a reload builds a new one and swaps a single reference, so a request keeps the table it
// started with. The only mutable parts are memos (the per-bind host cache, the round-robin cursor, the
// lazily resolved dispatcher, the metrics slots), which never change what a request is routed to.
import type { SecureContext } from 'node:tls';
import type { UpstreamDispatcher } from '../upstream/dispatcher.ts';
import type { RequestContext, RequestPolicy } from '../request-policy.ts';
import type { BackendProtocol } from '../analysis/backends.ts';
import type { StatsSlot } from '../runtime/metrics.ts';

export interface HeaderMatcher {
  /** lower-cased */
  name: string;
  exact?: string;
  regex?: RegExp;
}

export interface QueryMatcher {
  name: string;
  exact?: string;
  regex?: RegExp;
}

export interface CompiledHeaderModifier {
  /** [lower-cased name, name as written, value] */
  set: [string, string, string][];
  add: [string, string, string][];
  remove: Set<string>;
}

export interface CompiledPathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  value: string;
}

export interface CompiledRedirect {
  scheme?: string;
  hostname?: string;
  port?: number;
  path?: CompiledPathModifier;
  statusCode: number;
}

export interface CompiledRewrite {
  hostname?: string;
  path?: CompiledPathModifier;
}

export interface CompiledCors {
  /** exact origins, lower-cased */
  origins: Set<string>;
  /** wildcard origins as anchored regexes */
  originPatterns: RegExp[];
  anyOrigin: boolean;
  allowCredentials: boolean;
  allowMethods: string[];
  anyMethod: boolean;
  allowHeaders: string[];
  anyHeader: boolean;
  exposeHeaders: string;
  maxAge?: string;
}

/** One concrete upstream address. `dispatcher` is filled on first use by the upstream registry. */
export interface UpstreamEndpoint {
  key: string;
  origin: string;
  /** address (IPv6 without brackets) and port, for raw connections (WebSocket) */
  address: string;
  port: number;
  protocol: BackendProtocol;
  dispatcher?: UpstreamDispatcher;
}

export interface CompiledMirror {
  percent: number;
  backend: CompiledBackend;
}

export interface CompiledBackend {
  /** "ns/name:port" for logs and metrics */
  label: string;
  weight: number;
  /** set when the backendRef does not resolve: requests sent to it get this status */
  errorStatus?: number;
  errorMessage?: string;
  endpoints: UpstreamEndpoint[];
  protocol: BackendProtocol;
  cursor: number;
  requestHeaders?: CompiledHeaderModifier;
  responseHeaders?: CompiledHeaderModifier;
  rewrite?: CompiledRewrite;
  redirect?: CompiledRedirect;
  mirrors: CompiledMirror[];
  /** memo: metrics children for requests that ended on this backend */
  stats?: StatsSlot;
}

export interface CompiledRetry {
  codes: Set<number>;
  attempts: number;
  backoffMs: number;
}

export interface CompiledRule {
  routeKind: 'HTTPRoute' | 'GRPCRoute';
  routeNamespace: string;
  routeName: string;
  /** "ns/name" */
  routeLabel: string;
  ruleIndex: number;
  ruleName?: string;
  /** a rule that cannot be served as written (unsupported filter...): answered with 500 */
  invalid?: string;
  policies: readonly RequestPolicy[];
  requestHeaders?: CompiledHeaderModifier;
  responseHeaders?: CompiledHeaderModifier;
  redirect?: CompiledRedirect;
  rewrite?: CompiledRewrite;
  mirrors: CompiledMirror[];
  cors?: CompiledCors;
  backends: CompiledBackend[];
  totalWeight: number;
  requestTimeoutMs: number;
  backendTimeoutMs: number;
  retry?: CompiledRetry;
  /** memo: metrics children for requests answered by the rule itself (redirects, errors) */
  stats?: StatsSlot;
  /** memo: the route as policies see it (RequestContext.route), built once per rule */
  policyRoute?: RequestContext['route'];
}

export type { PathKind } from './ir.ts';
import type { PathKind } from './ir.ts';

export interface MatchEntry {
  pathKind: PathKind;
  /** Exact: the path; PathPrefix: the prefix without a trailing slash ('/' for the root) */
  path: string;
  pathRegex?: RegExp;
  method?: string;
  headers?: HeaderMatcher[];
  query?: QueryMatcher[];
  /** GRPCRoute method match (applied to the :path "/service/method") */
  grpc?: { service?: string; method?: string; serviceRegex?: RegExp; methodRegex?: RegExp };
  rule: CompiledRule;
}

/** Every match attached to one effective hostname of one listener, indexed by path. */
export interface MatchGroup {
  exact: Map<string, MatchEntry[]>;
  prefix: Map<string, MatchEntry[]>;
  /** the distinct prefix lengths, longest first */
  prefixLengths: number[];
  regex: MatchEntry[];
  grpc: MatchEntry[];
}

export interface CompiledListener {
  gatewayNamespace: string;
  gatewayName: string;
  /** "ns/name" */
  gatewayLabel: string;
  name: string;
  hostname?: string;
  /** the port in the Gateway spec (what redirects keep), not the port served */
  port: number;
  scheme: 'http' | 'https';
  exactHosts: Map<string, MatchGroup>;
  /** wildcard hostnames, longest first: suffix is ".example.com" for "*.example.com" */
  wildcardHosts: { suffix: string; group: MatchGroup }[];
  anyHost?: MatchGroup;
  secureContext?: SecureContext;
  /** the PEMs behind secureContext, for the server's default context (clients without SNI) */
  tlsPems?: { cert: string[]; key: string[] };
  /** memo: metrics children for requests that matched no route on this listener */
  stats?: StatsSlot;
  /** memo: the gateway as policies see it (RequestContext.gateway), built once per listener */
  policyGateway?: RequestContext['gateway'];
}

export interface HostSelection {
  listener?: CompiledListener;
  groups: MatchGroup[];
}

export interface CompiledBind {
  key: string;
  address: string;
  port: number;
  tls: boolean;
  /** most specific hostname first */
  listeners: CompiledListener[];
  /** memo: Host header (as received) → selection */
  hostCache: Map<string, HostSelection>;
}

export interface RouteTable {
  generation: number;
  binds: Map<string, CompiledBind>;
  /** every upstream key the table references (the registry closes the others) */
  upstreamKeys: Set<string>;
}
