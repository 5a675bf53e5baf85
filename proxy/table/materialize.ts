// Builds the runtime RouteTable (types.ts) from the plain-data IR (ir.ts): RegExps from expression
// sources, Sets and Maps from arrays, one SecureContext per HTTPS listener, the policy instances of each
// rule (asked of the process's own AttachPolicies hook, at the rule's attachment point), and fresh memos.
// Every process that serves traffic — the single proxy process, or each worker — materialises the IR it
// was given; the IR itself is never modified.
import tls from 'node:tls';
import type { AttachPolicies, RequestPolicy } from '../request-policy.ts';
import { anchoredRegex } from './compile-matches.ts';
import type {
  BackendIR,
  CorsIR,
  EndpointIR,
  HeaderModifierIR,
  ListenerIR,
  MatchEntryIR,
  MatchGroupIR,
  MirrorIR,
  NameMatcherIR,
  RouteTableIR,
  RuleIR,
} from './ir.ts';
import type {
  CompiledBackend,
  CompiledBind,
  CompiledCors,
  CompiledHeaderModifier,
  CompiledListener,
  CompiledMirror,
  CompiledRule,
  HeaderMatcher,
  MatchEntry,
  MatchGroup,
  RouteTable,
  UpstreamEndpoint,
} from './types.ts';

export interface MaterializeOptions {
  /** the policy instances in force at each rule; without it rules carry no policies */
  attachPolicies?: AttachPolicies;
}

const NO_POLICIES: readonly RequestPolicy[] = Object.freeze([]);
const NO_MIRRORS: CompiledMirror[] = Object.freeze([]) as unknown as CompiledMirror[];

class Materializer {
  readonly #endpoints = new Map<string, UpstreamEndpoint>();
  readonly #endpointLists = new Map<readonly EndpointIR[], UpstreamEndpoint[]>();
  readonly #modifiers = new Map<HeaderModifierIR, CompiledHeaderModifier>();
  readonly #regexes = new Map<string, RegExp>();
  readonly #rules: CompiledRule[];
  readonly #listeners: CompiledListener[];
  readonly #ir: RouteTableIR;

  constructor(ir: RouteTableIR, options: MaterializeOptions) {
    this.#ir = ir;
    this.#listeners = ir.listeners.map((l) => this.#listener(l));
    this.#rules = ir.rules.map((r) => this.#rule(r, options.attachPolicies));
    ir.listeners.forEach((l, i) => this.#fillHosts(this.#listeners[i]!, l));
  }

  table(): RouteTable {
    const binds = new Map<string, CompiledBind>();
    for (const b of this.#ir.binds)
      binds.set(b.key, {
        key: b.key,
        address: b.address,
        port: b.port,
        tls: b.tls,
        listeners: b.listeners.map((i) => this.#listeners[i]!),
        hostCache: new Map(),
      });
    return { generation: this.#ir.generation, binds, upstreamKeys: new Set(this.#ir.upstreamKeys) };
  }

  #regex(source: string): RegExp {
    let r = this.#regexes.get(source);
    if (!r) this.#regexes.set(source, (r = anchoredRegex(source)));
    return r;
  }

  #listener(l: ListenerIR): CompiledListener {
    const out: CompiledListener = {
      gatewayNamespace: l.gatewayNamespace,
      gatewayName: l.gatewayName,
      gatewayLabel: l.gatewayLabel,
      name: l.name,
      hostname: l.hostname,
      port: l.port,
      scheme: l.scheme,
      exactHosts: new Map(),
      wildcardHosts: [],
    };
    if (l.tls) {
      out.secureContext = tls.createSecureContext(l.tls);
      out.tlsPems = l.tls;
    }
    return out;
  }

  #fillHosts(out: CompiledListener, l: ListenerIR): void {
    for (const [host, g] of l.exactHosts) out.exactHosts.set(host, this.#group(g));
    out.wildcardHosts = l.wildcardHosts.map((w) => ({ suffix: w.suffix, group: this.#group(w.group) }));
    if (l.anyHost) out.anyHost = this.#group(l.anyHost);
  }

  #group(g: MatchGroupIR): MatchGroup {
    const entries = (list: MatchEntryIR[]) => list.map((e) => this.#entry(e));
    return {
      exact: new Map(g.exact.map(([path, list]) => [path, entries(list)])),
      prefix: new Map(g.prefix.map(([path, list]) => [path, entries(list)])),
      prefixLengths: g.prefixLengths,
      regex: entries(g.regex),
      grpc: entries(g.grpc),
    };
  }

  #matchers(list: NameMatcherIR[] | undefined): HeaderMatcher[] | undefined {
    return list?.map((m) =>
      m.regex !== undefined
        ? { name: m.name, regex: this.#regex(m.regex) }
        : { name: m.name, exact: m.exact },
    );
  }

  #entry(e: MatchEntryIR): MatchEntry {
    const out: MatchEntry = {
      pathKind: e.pathKind,
      path: e.path,
      method: e.method,
      headers: this.#matchers(e.headers),
      query: this.#matchers(e.query),
      rule: this.#rules[e.rule]!,
    };
    if (e.pathKind === 'RegularExpression') out.pathRegex = this.#regex(e.path);
    if (e.grpc) {
      const g = e.grpc;
      out.grpc = {
        service: g.service,
        method: g.method,
        serviceRegex: g.serviceRegex !== undefined ? this.#regex(g.serviceRegex) : undefined,
        methodRegex: g.methodRegex !== undefined ? this.#regex(g.methodRegex) : undefined,
      };
    }
    return out;
  }

  #modifier(m: HeaderModifierIR | undefined): CompiledHeaderModifier | undefined {
    if (!m) return undefined;
    let out = this.#modifiers.get(m);
    if (!out) this.#modifiers.set(m, (out = { set: m.set, add: m.add, remove: new Set(m.remove) }));
    return out;
  }

  #cors(c: CorsIR | undefined): CompiledCors | undefined {
    if (!c) return undefined;
    return {
      ...c,
      origins: new Set(c.origins),
      originPatterns: c.originPatterns.map((p) => new RegExp(p)),
    };
  }

  #endpointList(list: readonly EndpointIR[]): UpstreamEndpoint[] {
    let out = this.#endpointLists.get(list);
    if (out) return out;
    out = list.map((e) => {
      // one object per upstream key, so that the dispatcher memo is shared by every backend naming it
      let ep = this.#endpoints.get(e.key);
      if (!ep) this.#endpoints.set(e.key, (ep = { ...e }));
      return ep;
    });
    this.#endpointLists.set(list, out);
    return out;
  }

  #mirrors(list: MirrorIR[]): CompiledMirror[] {
    return list.length
      ? list.map((m) => ({ percent: m.percent, backend: this.#backend(m.backend) }))
      : NO_MIRRORS;
  }

  #backend(b: BackendIR): CompiledBackend {
    return {
      label: b.label,
      weight: b.weight,
      errorStatus: b.errorStatus,
      errorMessage: b.errorMessage,
      endpoints: this.#endpointList(b.endpoints),
      protocol: b.protocol,
      cursor: 0,
      requestHeaders: this.#modifier(b.requestHeaders),
      responseHeaders: this.#modifier(b.responseHeaders),
      rewrite: b.rewrite,
      redirect: b.redirect,
      mirrors: this.#mirrors(b.mirrors),
    };
  }

  #rule(r: RuleIR, attach: AttachPolicies | undefined): CompiledRule {
    const listener = this.#listeners[r.listener]!;
    const policies =
      attach?.({
        gateway: { namespace: listener.gatewayNamespace, name: listener.gatewayName },
        listener: listener.name,
        route: { kind: r.routeKind, namespace: r.routeNamespace, name: r.routeName },
        ruleIndex: r.ruleIndex,
        ruleName: r.ruleName,
      }) ?? NO_POLICIES;
    return {
      routeKind: r.routeKind,
      routeNamespace: r.routeNamespace,
      routeName: r.routeName,
      routeLabel: r.routeLabel,
      ruleIndex: r.ruleIndex,
      ruleName: r.ruleName,
      invalid: r.invalid,
      policies,
      requestHeaders: this.#modifier(r.requestHeaders),
      responseHeaders: this.#modifier(r.responseHeaders),
      redirect: r.redirect,
      rewrite: r.rewrite,
      mirrors: this.#mirrors(r.mirrors),
      cors: this.#cors(r.cors),
      backends: r.backends.map((b) => this.#backend(b)),
      totalWeight: r.totalWeight,
      requestTimeoutMs: r.requestTimeoutMs,
      backendTimeoutMs: r.backendTimeoutMs,
      retry: r.retry ? { ...r.retry, codes: new Set(r.retry.codes) } : undefined,
    };
  }
}

/** The runtime route table for an IR. Throws when a listener's certificate cannot be loaded. */
export function materialize(ir: RouteTableIR, options: MaterializeOptions = {}): RouteTable {
  return new Materializer(ir, options).table();
}
