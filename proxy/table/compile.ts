// The route-table compiler: a pure function from a ProxyInputs snapshot to the route table as plain data
// (RouteTableIR, ir.ts). It reads the shared analysis (the same one the status computation reads), keeps
// only the listeners that serve traffic and the Gateways this process was asked to serve, and indexes
// every attached route match per bind (address + served port), per listener and per effective hostname.
// materialize.ts builds the runtime RouteTable from the IR, in this process or in a worker.
import tls from 'node:tls';
import { analyze, type Analysis, type AnalysisOptions } from '../analysis/analyze.ts';
import { hostnameRank } from '../analysis/hostnames.ts';
import type { ListenerInfo } from '../analysis/gateways.ts';
import type { RouteInfo } from '../analysis/routes.ts';
import type { GRPCRouteRule, HTTPRouteRule } from '../model/gateway-api.ts';
import type { ProxyInputs } from '../model/inputs.ts';
import type { AttachPolicies, RequestPolicy } from '../request-policy.ts';
import {
  addEntry,
  finalizeGroup,
  grpcEntries,
  httpEntries,
  newGroup,
  type GroupBuilder,
  type RouteOrder,
} from './compile-matches.ts';
import { compileRule } from './compile-rule.ts';
import type { BindIR, EndpointIR, ListenerIR, PolicyRefIR, RouteTableIR, RuleIR } from './ir.ts';
import { pruneUndefined } from './prune.ts';

export interface CompileOptions extends AnalysisOptions {
  /** "ns/name" of the Gateways this process serves; undefined = all of ours */
  gateways?: ReadonlySet<string>;
  /** names the policies in force at each rule (the IR keeps their kind and name) */
  attachPolicies?: AttachPolicies;
  generation?: number;
}

export interface CompileResult {
  ir: RouteTableIR;
  analysis: Analysis;
  /** problems that did not stop the compile (a bad certificate, an invalid match), for the log */
  warnings: string[];
}

/** A listener while routes attach: its IR fields, and its hostname groups still in Maps. */
interface ListenerBuilder {
  ir: ListenerIR;
  index: number;
  exactHosts: Map<string, GroupBuilder>;
  wildcardHosts: Map<string, GroupBuilder>;
  anyHost?: GroupBuilder;
}

function compileListener(info: ListenerInfo, index: number, warnings: string[]): ListenerBuilder | undefined {
  const gw = info.gateway.metadata;
  const ir: ListenerIR = {
    gatewayNamespace: gw.namespace ?? 'default',
    gatewayName: gw.name,
    gatewayLabel: info.gatewayKey,
    name: info.name,
    hostname: info.hostname,
    port: info.port,
    scheme: info.protocol === 'HTTPS' ? 'https' : 'http',
    exactHosts: [],
    wildcardHosts: [],
  };
  if (info.protocol === 'HTTPS') {
    const pems = {
      cert: info.certificates.map((c) => c.certPem),
      key: info.certificates.map((c) => c.keyPem),
    };
    try {
      // checked here, once, so that an unusable certificate is a compile warning; materialize builds the
      // context each process serves with
      tls.createSecureContext(pems);
      ir.tls = pems;
    } catch (err) {
      warnings.push(
        `Gateway ${info.gatewayKey} listener ${info.name}: certificate unusable: ${(err as Error).message}`,
      );
      return undefined;
    }
  }
  return { ir, index, exactHosts: new Map(), wildcardHosts: new Map() };
}

function groupFor(listener: ListenerBuilder, hostname: string | undefined): GroupBuilder {
  if (!hostname) return (listener.anyHost ??= newGroup());
  const map = hostname.startsWith('*.') ? listener.wildcardHosts : listener.exactHosts;
  const key = hostname.startsWith('*.') ? hostname.slice(1) : hostname;
  let g = map.get(key);
  if (!g) map.set(key, (g = newGroup()));
  return g;
}

function finalizeListener(l: ListenerBuilder): ListenerIR {
  const ir = l.ir;
  ir.exactHosts = [...l.exactHosts].map(([host, g]) => [host, finalizeGroup(g)]);
  ir.wildcardHosts = [...l.wildcardHosts]
    .sort((a, b) => b[0].length - a[0].length)
    .map(([suffix, g]) => ({ suffix, group: finalizeGroup(g) }));
  if (l.anyHost) ir.anyHost = finalizeGroup(l.anyHost);
  return ir;
}

interface AttachContext {
  options: CompileOptions;
  rules: RuleIR[];
  upstreamKeys: Set<string>;
  warnings: string[];
  endpointsMemo: Map<string, EndpointIR[]>;
  policyRefsMemo: WeakMap<readonly RequestPolicy[], PolicyRefIR[]>;
}

function attachRoute(
  route: RouteInfo,
  listener: ListenerBuilder,
  hostnames: string[],
  ctx: AttachContext,
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
      listener: listener.ir,
      listenerIndex: listener.index,
      attachPolicies: ctx.options.attachPolicies,
      upstreamKeys: ctx.upstreamKeys,
      endpointsMemo: ctx.endpointsMemo,
      policyRefsMemo: ctx.policyRefsMemo,
    });
    const ruleRef = ctx.rules.push(compiled) - 1;
    const ro = { ...order, ruleIndex };
    const { entries, invalid } =
      route.kind === 'GRPCRoute'
        ? grpcEntries((rule as GRPCRouteRule).matches, ruleRef, ro)
        : httpEntries((rule as HTTPRouteRule).matches, ruleRef, ro);
    for (const msg of invalid) ctx.warnings.push(`${route.kind} ${route.key} rule ${ruleIndex} ${msg}`);
    if (compiled.invalid) ctx.warnings.push(`${compiled.invalid}; the rule answers 500`);
    for (const hostname of hostnames.length ? hostnames : [undefined]) {
      const group = groupFor(listener, hostname);
      for (const e of entries) addEntry(group, e);
    }
  });
}

/** The whole compile: analysis, then the IR. */
export function compileRouteTable(inputs: ProxyInputs, options: CompileOptions): CompileResult {
  return compileAnalysis(analyze(inputs, options), options);
}

/** The IR of an analysis already made (the reload's analysis stage made it for status too). */
export function compileAnalysis(analysis: Analysis, options: CompileOptions): CompileResult {
  const warnings: string[] = [];
  const upstreamKeys = new Set<string>();
  const compiled = new Map<ListenerInfo, ListenerBuilder>();
  const listeners: ListenerBuilder[] = [];
  const binds = new Map<string, BindIR>();
  for (const gw of analysis.gateways) {
    if (options.gateways && !options.gateways.has(gw.key)) continue;
    for (const info of gw.listeners) {
      if (!info.serving) continue;
      const listener = compileListener(info, listeners.length, warnings);
      if (!listener) continue;
      compiled.set(info, listener);
      listeners.push(listener);
      for (const address of info.addresses) {
        const key = `${address}|${info.servedPort}`;
        let bind = binds.get(key);
        if (!bind) {
          bind = { key, address, port: info.servedPort, tls: info.protocol === 'HTTPS', listeners: [] };
          binds.set(key, bind);
        }
        bind.listeners.push(listener.index);
      }
    }
  }
  const ctx: AttachContext = {
    options,
    rules: [],
    upstreamKeys,
    warnings,
    endpointsMemo: new Map(),
    policyRefsMemo: new WeakMap(),
  };
  for (const route of analysis.routes) {
    // two parentRefs can lead to the same listener: attach once, with the union of the hostnames
    const targets = new Map<ListenerBuilder, Set<string> | 'any'>();
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
  const listenerIRs = listeners.map(finalizeListener);
  for (const bind of binds.values())
    bind.listeners.sort(
      (a, b) => hostnameRank(listenerIRs[b]!.hostname) - hostnameRank(listenerIRs[a]!.hostname),
    );
  const ir: RouteTableIR = {
    generation: options.generation ?? 0,
    listeners: listenerIRs,
    rules: ctx.rules,
    binds: [...binds.values()],
    upstreamKeys: [...upstreamKeys].sort(),
  };
  return { ir: pruneUndefined(ir), analysis, warnings };
}
