// The route-table compiler: a pure function from a ProxyInputs snapshot to an immutable RouteTable. It
// reads the shared analysis (the same one the status computation reads), keeps only the listeners that
// serve traffic and the Gateways this process was asked to serve, and indexes every attached route match
// per bind (address + served port), per listener and per effective hostname.
import tls from 'node:tls';
import { analyze, type Analysis, type AnalysisOptions } from '../analysis/analyze.ts';
import { hostnameRank } from '../analysis/hostnames.ts';
import type { ListenerInfo } from '../analysis/gateways.ts';
import type { RouteInfo } from '../analysis/routes.ts';
import type { GRPCRouteRule, HTTPRouteRule } from '../model/gateway-api.ts';
import type { ProxyInputs } from '../model/inputs.ts';
import type { AttachPolicies } from '../request-policy.ts';
import {
  addEntry,
  finalizeGroup,
  grpcEntries,
  httpEntries,
  newGroup,
  releaseSortKeys,
  type RouteOrder,
} from './compile-matches.ts';
import { compileRule } from './compile-rule.ts';
import type { CompiledBind, CompiledListener, MatchGroup, RouteTable, UpstreamEndpoint } from './types.ts';

export interface CompileOptions extends AnalysisOptions {
  /** "ns/name" of the Gateways this process serves; undefined = all of ours */
  gateways?: ReadonlySet<string>;
  attachPolicies?: AttachPolicies;
  generation?: number;
}

export interface CompileResult {
  table: RouteTable;
  analysis: Analysis;
  /** problems that did not stop the compile (a bad certificate, an invalid match), for the log */
  warnings: string[];
}

function compileListener(info: ListenerInfo, warnings: string[]): CompiledListener | undefined {
  const gw = info.gateway.metadata;
  const listener: CompiledListener = {
    gatewayNamespace: gw.namespace ?? 'default',
    gatewayName: gw.name,
    gatewayLabel: info.gatewayKey,
    name: info.name,
    hostname: info.hostname,
    port: info.port,
    scheme: info.protocol === 'HTTPS' ? 'https' : 'http',
    exactHosts: new Map(),
    wildcardHosts: [],
  };
  if (info.protocol === 'HTTPS') {
    try {
      const pems = {
        cert: info.certificates.map((c) => c.certPem),
        key: info.certificates.map((c) => c.keyPem),
      };
      listener.secureContext = tls.createSecureContext(pems);
      listener.tlsPems = pems;
    } catch (err) {
      warnings.push(
        `Gateway ${info.gatewayKey} listener ${info.name}: certificate unusable: ${(err as Error).message}`,
      );
      return undefined;
    }
  }
  return listener;
}

function groupFor(listener: CompiledListener, hostname: string | undefined): MatchGroup {
  if (!hostname) return (listener.anyHost ??= newGroup());
  if (hostname.startsWith('*.')) {
    const suffix = hostname.slice(1);
    let w = listener.wildcardHosts.find((x) => x.suffix === suffix);
    if (!w) listener.wildcardHosts.push((w = { suffix, group: newGroup() }));
    return w.group;
  }
  let g = listener.exactHosts.get(hostname);
  if (!g) listener.exactHosts.set(hostname, (g = newGroup()));
  return g;
}

const groupsOf = (l: CompiledListener): MatchGroup[] => [
  ...l.exactHosts.values(),
  ...l.wildcardHosts.map((w) => w.group),
  ...(l.anyHost ? [l.anyHost] : []),
];

function attachRoute(
  route: RouteInfo,
  listener: CompiledListener,
  hostnames: string[],
  ctx: {
    options: CompileOptions;
    upstreamKeys: Set<string>;
    warnings: string[];
    endpointsMemo: Map<string, UpstreamEndpoint[]>;
  },
): void {
  const order: Omit<RouteOrder, 'ruleIndex'> = {
    created: route.route.metadata.creationTimestamp ?? '',
    key: route.key,
  };
  const rules = route.route.spec?.rules ?? [];
  rules.forEach((rule, ruleIndex) => {
    const compiled = compileRule(rule as HTTPRouteRule, {
      route,
      ruleIndex,
      listener,
      attachPolicies: ctx.options.attachPolicies,
      upstreamKeys: ctx.upstreamKeys,
      endpointsMemo: ctx.endpointsMemo,
    });
    const ro = { ...order, ruleIndex };
    const { entries, invalid } =
      route.kind === 'GRPCRoute'
        ? grpcEntries((rule as GRPCRouteRule).matches, compiled, ro)
        : httpEntries((rule as HTTPRouteRule).matches, compiled, ro);
    for (const msg of invalid) ctx.warnings.push(`${route.kind} ${route.key} rule ${ruleIndex} ${msg}`);
    if (compiled.invalid) ctx.warnings.push(`${compiled.invalid}; the rule answers 500`);
    for (const hostname of hostnames.length ? hostnames : [undefined]) {
      const group = groupFor(listener, hostname);
      for (const e of entries) addEntry(group, e);
    }
  });
}

export function compileRouteTable(inputs: ProxyInputs, options: CompileOptions): CompileResult {
  const analysis = analyze(inputs, options);
  const warnings: string[] = [];
  const upstreamKeys = new Set<string>();
  const compiled = new Map<ListenerInfo, CompiledListener>();
  const binds = new Map<string, CompiledBind>();
  for (const gw of analysis.gateways) {
    if (options.gateways && !options.gateways.has(gw.key)) continue;
    for (const info of gw.listeners) {
      if (!info.serving) continue;
      const listener = compileListener(info, warnings);
      if (!listener) continue;
      compiled.set(info, listener);
      for (const address of info.addresses) {
        const key = `${address}|${info.servedPort}`;
        let bind = binds.get(key);
        if (!bind) {
          bind = {
            key,
            address,
            port: info.servedPort,
            tls: info.protocol === 'HTTPS',
            listeners: [],
            hostCache: new Map(),
          };
          binds.set(key, bind);
        }
        bind.listeners.push(listener);
      }
    }
  }
  const ctx = { options, upstreamKeys, warnings, endpointsMemo: new Map<string, UpstreamEndpoint[]>() };
  for (const route of analysis.routes) {
    // two parentRefs can lead to the same listener: attach once, with the union of the hostnames
    const targets = new Map<CompiledListener, Set<string> | 'any'>();
    for (const parent of route.parents) {
      if (parent.accepted.status !== 'True') continue;
      for (const att of parent.attachments) {
        const listener = compiled.get(att.listener);
        if (!listener) continue;
        const prev = targets.get(listener);
        if (prev === 'any' || att.hostnames.length === 0) targets.set(listener, 'any');
        else targets.set(listener, new Set([...(prev ?? []), ...att.hostnames]));
      }
    }
    for (const [listener, hostnames] of targets)
      attachRoute(route, listener, hostnames === 'any' ? [] : [...hostnames], ctx);
  }
  for (const listener of compiled.values()) {
    listener.wildcardHosts.sort((a, b) => b.suffix.length - a.suffix.length);
    for (const g of groupsOf(listener)) finalizeGroup(g);
  }
  for (const listener of compiled.values()) for (const g of groupsOf(listener)) releaseSortKeys(g);
  for (const bind of binds.values())
    bind.listeners.sort((a, b) => hostnameRank(b.hostname) - hostnameRank(a.hostname));
  return { table: { generation: options.generation ?? 0, binds, upstreamKeys }, analysis, warnings };
}
