// The route table as plain data (the IR): what the compiler produces from a snapshot, before any runtime
// object exists. It holds only strings, numbers, booleans, arrays and plain objects, so it survives
// structuredClone and a JSON round trip unchanged: the primary compiles it once and ships it to every
// worker, and golden tests (proxy/testdata/) pin it as JSON. `materialize` (materialize.ts) turns it into
// the RouteTable the pipeline reads (RegExps, Sets, Maps, SecureContexts, policy instances, memos).
//
// Rules are stored once in `rules` and referenced by index from match entries (a rule with several
// matches, or attached under several hostnames, is one rule); listeners are stored once and referenced
// by index from binds (a listener on several addresses is one listener).
import type { BackendProtocol } from '../analysis/backends.ts';

export interface NameMatcherIR {
  /** lower-cased for headers, as written for query parameters */
  name: string;
  exact?: string;
  /** a Gateway API regular expression, matched against the whole value */
  regex?: string;
}

export interface HeaderModifierIR {
  /** [lower-cased name, name as written, value] */
  set: [string, string, string][];
  add: [string, string, string][];
  /** lower-cased */
  remove: string[];
}

export interface PathModifierIR {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  value: string;
}

export interface RedirectIR {
  scheme?: string;
  hostname?: string;
  port?: number;
  path?: PathModifierIR;
  statusCode: number;
}

export interface RewriteIR {
  hostname?: string;
  path?: PathModifierIR;
}

export interface CorsIR {
  /** exact origins, lower-cased */
  origins: string[];
  /** wildcard origins, compiled to anchored regular expressions at materialisation */
  originPatterns: string[];
  anyOrigin: boolean;
  allowCredentials: boolean;
  allowMethods: string[];
  anyMethod: boolean;
  allowHeaders: string[];
  anyHeader: boolean;
  exposeHeaders: string;
  maxAge?: string;
}

export interface EndpointIR {
  /** "protocol|host:port": one pooled upstream per key */
  key: string;
  origin: string;
  address: string;
  port: number;
  protocol: BackendProtocol;
}

export interface BackendIR {
  label: string;
  weight: number;
  errorStatus?: number;
  errorMessage?: string;
  endpoints: EndpointIR[];
  protocol: BackendProtocol;
  requestHeaders?: HeaderModifierIR;
  responseHeaders?: HeaderModifierIR;
  rewrite?: RewriteIR;
  redirect?: RedirectIR;
  mirrors: MirrorIR[];
}

export interface MirrorIR {
  percent: number;
  backend: BackendIR;
}

export interface RetryIR {
  codes: number[];
  attempts: number;
  backoffMs: number;
}

/** A policy in force at a rule, in evaluation order; materialisation asks the policy hook for the instance. */
export interface PolicyRefIR {
  kind: 'RateLimitPolicy' | 'AccessPolicy';
  /** namespace/name */
  name: string;
}

export interface RuleIR {
  routeKind: 'HTTPRoute' | 'GRPCRoute';
  routeNamespace: string;
  routeName: string;
  routeLabel: string;
  ruleIndex: number;
  ruleName?: string;
  /** the listener the rule is attached to (index into RouteTableIR.listeners): its policy attachment point */
  listener: number;
  invalid?: string;
  policies: PolicyRefIR[];
  requestHeaders?: HeaderModifierIR;
  responseHeaders?: HeaderModifierIR;
  redirect?: RedirectIR;
  rewrite?: RewriteIR;
  mirrors: MirrorIR[];
  cors?: CorsIR;
  backends: BackendIR[];
  totalWeight: number;
  requestTimeoutMs: number;
  backendTimeoutMs: number;
  retry?: RetryIR;
}

export type PathKind = 'Exact' | 'PathPrefix' | 'RegularExpression' | 'GRPC';

export interface MatchEntryIR {
  pathKind: PathKind;
  /** Exact: the path; PathPrefix: the prefix without a trailing slash; RegularExpression: the expression */
  path: string;
  method?: string;
  headers?: NameMatcherIR[];
  query?: NameMatcherIR[];
  grpc?: { service?: string; method?: string; serviceRegex?: string; methodRegex?: string };
  /** index into RouteTableIR.rules */
  rule: number;
}

/** The matches of one effective hostname of one listener, each bucket sorted in the spec's precedence. */
export interface MatchGroupIR {
  exact: [string, MatchEntryIR[]][];
  prefix: [string, MatchEntryIR[]][];
  /** the distinct prefix lengths, longest first */
  prefixLengths: number[];
  regex: MatchEntryIR[];
  grpc: MatchEntryIR[];
}

export interface ListenerIR {
  gatewayNamespace: string;
  gatewayName: string;
  gatewayLabel: string;
  name: string;
  hostname?: string;
  port: number;
  scheme: 'http' | 'https';
  exactHosts: [string, MatchGroupIR][];
  /** longest suffix first */
  wildcardHosts: { suffix: string; group: MatchGroupIR }[];
  anyHost?: MatchGroupIR;
  /** HTTPS listeners: the PEMs of their certificates (checked loadable at compile time) */
  tls?: { cert: string[]; key: string[] };
}

export interface BindIR {
  key: string;
  address: string;
  port: number;
  tls: boolean;
  /** indexes into RouteTableIR.listeners, most specific hostname first */
  listeners: number[];
}

export interface RouteTableIR {
  generation: number;
  listeners: ListenerIR[];
  rules: RuleIR[];
  binds: BindIR[];
  /** every upstream key the table references, sorted */
  upstreamKeys: string[];
}
