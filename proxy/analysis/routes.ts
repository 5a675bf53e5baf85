// Route attachment: for every parentRef of an HTTPRoute or GRPCRoute that names one of our Gateways, the
// listeners it attaches to (sectionName, port, allowedRoutes kinds and namespaces, hostname intersection)
// or the reason it does not; and the resolution of every backendRef, for the ResolvedRefs condition.
import { fail, ok, type Verdict } from './conditions.ts';
import { effectiveHostnames } from './hostnames.ts';
import { labelsOfNamespace, type InputsIndex } from './index-inputs.ts';
import { selectorMatches } from './label-selector.ts';
import { resolveBackendRef, type BackendResolution, type RouteRefSource } from './backends.ts';
import type { GatewayInfo, ListenerInfo } from './gateways.ts';
import {
  GATEWAY_GROUP,
  type GRPCRoute,
  type HTTPBackendRef,
  type HTTPRoute,
  type HTTPRouteFilter,
  type ParentReference,
} from '../model/gateway-api.ts';

export type RouteKind = 'HTTPRoute' | 'GRPCRoute';

export interface Attachment {
  listener: ListenerInfo;
  /** effective hostnames on this listener; empty = every host */
  hostnames: string[];
}

export interface ParentInfo {
  ref: ParentReference;
  gateway: GatewayInfo;
  accepted: Verdict;
  attachments: Attachment[];
}

export interface RuleRefs {
  /** one per backendRef, in order */
  backends: BackendResolution[];
  /** one per RequestMirror filter of the rule, in filter order */
  mirrors: BackendResolution[];
}

export interface RouteInfo {
  kind: RouteKind;
  route: HTTPRoute | GRPCRoute;
  key: string;
  namespace: string;
  name: string;
  /** only the parentRefs that name one of our Gateways */
  parents: ParentInfo[];
  rules: RuleRefs[];
  resolvedRefs: Verdict;
}

function kindAllowed(listener: ListenerInfo, kind: RouteKind): boolean {
  return listener.supportedKinds.some((k) => k.kind === kind && (k.group ?? GATEWAY_GROUP) === GATEWAY_GROUP);
}

function namespaceAllowed(listener: ListenerInfo, routeNamespace: string, index: InputsIndex): boolean {
  const from = listener.spec.allowedRoutes?.namespaces?.from ?? 'Same';
  const gwNamespace = listener.gateway.metadata.namespace ?? 'default';
  if (from === 'All') return true;
  if (from === 'Same') return routeNamespace === gwNamespace;
  if (from === 'Selector')
    return selectorMatches(
      listener.spec.allowedRoutes?.namespaces?.selector,
      labelsOfNamespace(index, routeNamespace),
    );
  return false;
}

function analyzeParent(
  ref: ParentReference,
  gateway: GatewayInfo,
  route: HTTPRoute | GRPCRoute,
  kind: RouteKind,
  index: InputsIndex,
): ParentInfo {
  const routeNs = route.metadata.namespace ?? 'default';
  const base = { ref, gateway, attachments: [] as Attachment[] };
  if (gateway.accepted.status !== 'True') {
    return {
      ...base,
      accepted: fail(
        'NoMatchingParent',
        `Gateway ${gateway.key} is not accepted: ${gateway.accepted.message}`,
      ),
    };
  }
  const candidates = gateway.listeners.filter(
    (l) =>
      (ref.sectionName === undefined || l.name === ref.sectionName) &&
      (ref.port === undefined || l.port === ref.port),
  );
  if (!candidates.length) {
    const want = [
      ref.sectionName && `sectionName ${ref.sectionName}`,
      ref.port !== undefined && `port ${ref.port}`,
    ]
      .filter(Boolean)
      .join(' and ');
    return {
      ...base,
      accepted: fail('NoMatchingParent', `Gateway ${gateway.key} has no listener with ${want}`),
    };
  }
  const allowed = candidates.filter((l) => kindAllowed(l, kind) && namespaceAllowed(l, routeNs, index));
  if (!allowed.length) {
    return {
      ...base,
      accepted: fail(
        'NotAllowedByListeners',
        `the listeners of Gateway ${gateway.key} do not allow ${kind}s from namespace ${routeNs} (allowedRoutes)`,
      ),
    };
  }
  const attachments: Attachment[] = [];
  for (const listener of allowed) {
    const hostnames = effectiveHostnames(listener.hostname, route.spec?.hostnames);
    if (hostnames !== undefined) attachments.push({ listener, hostnames });
  }
  if (!attachments.length) {
    return {
      ...base,
      accepted: fail(
        'NoMatchingListenerHostname',
        `none of the route's hostnames intersects a listener hostname of Gateway ${gateway.key}`,
      ),
    };
  }
  return {
    ...base,
    attachments,
    accepted: ok('Accepted', `attached to listener(s) ${attachments.map((a) => a.listener.name).join(', ')}`),
  };
}

function mirrorRefs(filters: readonly HTTPRouteFilter[] | undefined): HTTPRouteFilter[] {
  return (filters ?? []).filter((f) => f.type === 'RequestMirror' && f.requestMirror?.backendRef);
}

function analyzeRules(
  route: HTTPRoute | GRPCRoute,
  source: RouteRefSource,
  index: InputsIndex,
): { rules: RuleRefs[]; resolvedRefs: Verdict } {
  let resolvedRefs: Verdict = ok('ResolvedRefs');
  const note = (r: BackendResolution) => {
    if (!r.ok && resolvedRefs.status === 'True') resolvedRefs = fail(r.reason, r.message);
  };
  const rules = (route.spec?.rules ?? []).map((rule) => {
    const backendRefs: HTTPBackendRef[] = rule.backendRefs ?? [];
    const backends = backendRefs.map((ref) => resolveBackendRef(index, source, ref));
    const mirrors = [...mirrorRefs(rule.filters), ...backendRefs.flatMap((b) => mirrorRefs(b.filters))].map(
      (f) => resolveBackendRef(index, source, f.requestMirror!.backendRef),
    );
    backends.forEach(note);
    mirrors.forEach(note);
    return { backends, mirrors };
  });
  return { rules, resolvedRefs };
}

export function analyzeRoute(
  route: HTTPRoute | GRPCRoute,
  kind: RouteKind,
  gatewaysByKey: Map<string, GatewayInfo>,
  index: InputsIndex,
): RouteInfo {
  const namespace = route.metadata.namespace ?? 'default';
  const name = route.metadata.name;
  const parents: ParentInfo[] = [];
  for (const ref of route.spec?.parentRefs ?? []) {
    if ((ref.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref.kind ?? 'Gateway') !== 'Gateway') continue;
    const gateway = gatewaysByKey.get(`${ref.namespace ?? namespace}/${ref.name}`);
    if (!gateway) continue; // not one of ours: another controller answers for it
    parents.push(analyzeParent(ref, gateway, route, kind, index));
  }
  const { rules, resolvedRefs } = analyzeRules(route, { kind, namespace, name }, index);
  return { kind, route, key: `${namespace}/${name}`, namespace, name, parents, rules, resolvedRefs };
}
