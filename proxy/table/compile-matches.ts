// HTTPRoute and GRPCRoute matches compiled into MatchEntries, with the sort key that encodes the spec's
// precedence (path kind and length are the bucket; then method, header count, query count, the route's
// age, its namespace/name, the rule and match index), and the per-hostname groups that index them.
import type { GRPCRouteMatch, HTTPRouteMatch } from '../model/gateway-api.ts';
import type { CompiledRule, HeaderMatcher, MatchEntry, MatchGroup, QueryMatcher } from './types.ts';

export interface RouteOrder {
  /** creationTimestamp ('' when unknown sorts first, like the oldest) */
  created: string;
  key: string;
  ruleIndex: number;
}

/** Anchored: Gateway API regular expressions match the whole value. */
function anchored(source: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch {
    return undefined;
  }
}

/** Header and query matchers alike: only the first entry with an equivalent name counts (the spec). */
function compileNameMatchers(
  list: readonly { name: string; value: string; type?: string }[] | undefined,
  normalize: (name: string) => string,
): (HeaderMatcher & QueryMatcher)[] | undefined | 'invalid' {
  if (!list?.length) return undefined;
  const seen = new Set<string>();
  const out: (HeaderMatcher & QueryMatcher)[] = [];
  for (const entry of list) {
    const name = normalize(entry.name);
    if (seen.has(name)) continue;
    seen.add(name);
    if ((entry.type ?? 'Exact') === 'RegularExpression') {
      const regex = anchored(entry.value);
      if (!regex) return 'invalid';
      out.push({ name, regex });
    } else out.push({ name, exact: entry.value });
  }
  return out;
}

/** Header names compare case-insensitively. */
const compileHeaderMatchers = (list: HTTPRouteMatch['headers']): HeaderMatcher[] | undefined | 'invalid' =>
  compileNameMatchers(list, (name) => name.toLowerCase());

/** Query parameter names compare exactly. */
const compileQueryMatchers = (list: HTTPRouteMatch['queryParams']): QueryMatcher[] | undefined | 'invalid' =>
  compileNameMatchers(list, (name) => name);

const tail = (order: RouteOrder, matchIndex: number): (string | number)[] => [
  order.created,
  order.key,
  order.ruleIndex,
  matchIndex,
];

/** Entries for one HTTPRoute rule; an empty `matches` is one match of PathPrefix "/". */
export function httpEntries(
  matches: readonly HTTPRouteMatch[] | undefined,
  rule: CompiledRule,
  order: RouteOrder,
): { entries: MatchEntry[]; invalid: string[] } {
  const list = matches?.length ? matches : [{}];
  const entries: MatchEntry[] = [];
  const invalid: string[] = [];
  list.forEach((m, matchIndex) => {
    const type = m.path?.type ?? 'PathPrefix';
    const value = m.path?.value ?? '/';
    const headers = compileHeaderMatchers(m.headers);
    const query = compileQueryMatchers(m.queryParams);
    if (headers === 'invalid' || query === 'invalid') {
      invalid.push(`match ${matchIndex}: invalid regular expression`);
      return;
    }
    const rest = [
      m.method === undefined ? 1 : 0,
      -(headers?.length ?? 0),
      -(query?.length ?? 0),
      ...tail(order, matchIndex),
    ];
    const base = { method: m.method, headers, query, rule };
    if (type === 'RegularExpression') {
      const regex = anchored(value);
      if (!regex) {
        invalid.push(`match ${matchIndex}: invalid path regular expression ${value}`);
        return;
      }
      entries.push({
        ...base,
        pathKind: 'RegularExpression',
        path: value,
        pathRegex: regex,
        order: [-value.length, ...rest],
      });
      return;
    }
    if (!value.startsWith('/')) {
      invalid.push(`match ${matchIndex}: path ${value} must start with /`);
      return;
    }
    if (type === 'Exact') {
      entries.push({ ...base, pathKind: 'Exact', path: value, order: rest });
    } else {
      const prefix = value.length > 1 && value.endsWith('/') ? value.replace(/\/+$/, '') || '/' : value;
      entries.push({ ...base, pathKind: 'PathPrefix', path: prefix, order: [-value.length, ...rest] });
    }
  });
  return { entries, invalid };
}

/** Entries for one GRPCRoute rule; an empty `matches` matches every gRPC method. */
export function grpcEntries(
  matches: readonly GRPCRouteMatch[] | undefined,
  rule: CompiledRule,
  order: RouteOrder,
): { entries: MatchEntry[]; invalid: string[] } {
  const list = matches?.length ? matches : [{}];
  const entries: MatchEntry[] = [];
  const invalid: string[] = [];
  list.forEach((m, matchIndex) => {
    const headers = compileHeaderMatchers(m.headers);
    if (headers === 'invalid') {
      invalid.push(`match ${matchIndex}: invalid header regular expression`);
      return;
    }
    const mm = m.method;
    const grpc: NonNullable<MatchEntry['grpc']> = {};
    if ((mm?.type ?? 'Exact') === 'RegularExpression') {
      if (mm?.service) grpc.serviceRegex = anchored(mm.service);
      if (mm?.method) grpc.methodRegex = anchored(mm.method);
      if ((mm?.service && !grpc.serviceRegex) || (mm?.method && !grpc.methodRegex)) {
        invalid.push(`match ${matchIndex}: invalid method regular expression`);
        return;
      }
    } else {
      grpc.service = mm?.service;
      grpc.method = mm?.method;
    }
    const sortKey = [
      -(mm?.service?.length ?? 0),
      -(mm?.method?.length ?? 0),
      -(headers?.length ?? 0),
      ...tail(order, matchIndex),
    ];
    entries.push({ pathKind: 'GRPC', path: '', grpc, headers, rule, order: sortKey });
  });
  return { entries, invalid };
}

export function newGroup(): MatchGroup {
  return { exact: new Map(), prefix: new Map(), prefixLengths: [], regex: [], grpc: [] };
}

export function addEntry(group: MatchGroup, e: MatchEntry): void {
  if (e.pathKind === 'GRPC') group.grpc.push(e);
  else if (e.pathKind === 'RegularExpression') group.regex.push(e);
  else {
    const map = e.pathKind === 'Exact' ? group.exact : group.prefix;
    const list = map.get(e.path);
    if (list) list.push(e);
    else map.set(e.path, [e]);
  }
}

function compareOrder(a: MatchEntry, b: MatchEntry): number {
  const n = Math.min(a.order.length, b.order.length);
  for (let i = 0; i < n; i++) {
    const x = a.order[i] as string | number;
    const y = b.order[i] as string | number;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return a.order.length - b.order.length;
}

/** Sorts every bucket by precedence and records the prefix lengths to probe. */
const SORTED: (string | number)[] = [];

const listsOf = (group: MatchGroup): MatchEntry[][] => [
  ...group.exact.values(),
  ...group.prefix.values(),
  group.regex,
  group.grpc,
];

export function finalizeGroup(group: MatchGroup): void {
  for (const list of listsOf(group)) list.sort(compareOrder);
  group.prefixLengths = [...new Set([...group.prefix.keys()].map((p) => p.length))].sort((a, b) => b - a);
}

/**
 * Drops the sort keys once every group is sorted (an entry can sit in several hostname groups, so not
 * before): large tables do not need to keep them.
 */
export function releaseSortKeys(group: MatchGroup): void {
  for (const list of listsOf(group)) for (const e of list) e.order = SORTED;
}
