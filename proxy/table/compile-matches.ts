// HTTPRoute and GRPCRoute matches compiled into match entries (IR), with the sort key that encodes the
// spec's precedence (path kind and length are the bucket; then method, header count, query count, the
// route's age, its namespace/name, the rule and match index), and the per-hostname groups that index
// them. Groups are built in Maps while routes attach, then sorted and written out as plain data.
import type { GRPCRouteMatch, HTTPRouteMatch } from '../model/gateway-api.ts';
import type { MatchEntryIR, MatchGroupIR, NameMatcherIR } from './ir.ts';

/** An entry while the table is being built: the IR entry and its precedence key. */
export interface SortableEntry {
  entry: MatchEntryIR;
  /** ordering key inside a bucket: smaller sorts first */
  order: (string | number)[];
}

/** A hostname group while the table is being built. */
export interface GroupBuilder {
  exact: Map<string, SortableEntry[]>;
  prefix: Map<string, SortableEntry[]>;
  regex: SortableEntry[];
  grpc: SortableEntry[];
}

export interface RouteOrder {
  /** creationTimestamp ('' when unknown sorts first, like the oldest) */
  created: string;
  key: string;
  ruleIndex: number;
}

/** Anchored: Gateway API regular expressions match the whole value. materialize.ts compiles the same. */
export function anchoredRegex(source: string): RegExp {
  return new RegExp(`^(?:${source})$`);
}

/** Whether the expression compiles; the IR keeps the source, checked here once. */
function validRegex(source: string): boolean {
  try {
    anchoredRegex(source);
    return true;
  } catch {
    return false;
  }
}

/** Header and query matchers alike: only the first entry with an equivalent name counts (the spec). */
function compileNameMatchers(
  list: readonly { name: string; value: string; type?: string }[] | undefined,
  normalize: (name: string) => string,
): NameMatcherIR[] | undefined | 'invalid' {
  if (!list?.length) return undefined;
  const seen = new Set<string>();
  const out: NameMatcherIR[] = [];
  for (const entry of list) {
    const name = normalize(entry.name);
    if (seen.has(name)) continue;
    seen.add(name);
    if ((entry.type ?? 'Exact') === 'RegularExpression') {
      if (!validRegex(entry.value)) return 'invalid';
      out.push({ name, regex: entry.value });
    } else out.push({ name, exact: entry.value });
  }
  return out;
}

/** Header names compare case-insensitively. */
const compileHeaderMatchers = (list: HTTPRouteMatch['headers']): NameMatcherIR[] | undefined | 'invalid' =>
  compileNameMatchers(list, (name) => name.toLowerCase());

/** Query parameter names compare exactly. */
const compileQueryMatchers = (list: HTTPRouteMatch['queryParams']): NameMatcherIR[] | undefined | 'invalid' =>
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
  rule: number,
  order: RouteOrder,
): { entries: SortableEntry[]; invalid: string[] } {
  const list = matches?.length ? matches : [{}];
  const entries: SortableEntry[] = [];
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
      if (!validRegex(value)) {
        invalid.push(`match ${matchIndex}: invalid path regular expression ${value}`);
        return;
      }
      entries.push({
        entry: { pathKind: 'RegularExpression', path: value, ...base },
        order: [-value.length, ...rest],
      });
      return;
    }
    if (!value.startsWith('/')) {
      invalid.push(`match ${matchIndex}: path ${value} must start with /`);
      return;
    }
    if (type === 'Exact') {
      entries.push({ entry: { pathKind: 'Exact', path: value, ...base }, order: rest });
    } else {
      const prefix = value.length > 1 && value.endsWith('/') ? value.replace(/\/+$/, '') || '/' : value;
      entries.push({
        entry: { pathKind: 'PathPrefix', path: prefix, ...base },
        order: [-value.length, ...rest],
      });
    }
  });
  return { entries, invalid };
}

/** Entries for one GRPCRoute rule; an empty `matches` matches every gRPC method. */
export function grpcEntries(
  matches: readonly GRPCRouteMatch[] | undefined,
  rule: number,
  order: RouteOrder,
): { entries: SortableEntry[]; invalid: string[] } {
  const list = matches?.length ? matches : [{}];
  const entries: SortableEntry[] = [];
  const invalid: string[] = [];
  list.forEach((m, matchIndex) => {
    const headers = compileHeaderMatchers(m.headers);
    if (headers === 'invalid') {
      invalid.push(`match ${matchIndex}: invalid header regular expression`);
      return;
    }
    const mm = m.method;
    const grpc: NonNullable<MatchEntryIR['grpc']> = {};
    if ((mm?.type ?? 'Exact') === 'RegularExpression') {
      if ((mm?.service && !validRegex(mm.service)) || (mm?.method && !validRegex(mm.method))) {
        invalid.push(`match ${matchIndex}: invalid method regular expression`);
        return;
      }
      if (mm?.service) grpc.serviceRegex = mm.service;
      if (mm?.method) grpc.methodRegex = mm.method;
    } else {
      if (mm?.service !== undefined) grpc.service = mm.service;
      if (mm?.method !== undefined) grpc.method = mm.method;
    }
    const sortKey = [
      -(mm?.service?.length ?? 0),
      -(mm?.method?.length ?? 0),
      -(headers?.length ?? 0),
      ...tail(order, matchIndex),
    ];
    entries.push({ entry: { pathKind: 'GRPC', path: '', grpc, headers, rule }, order: sortKey });
  });
  return { entries, invalid };
}

export function newGroup(): GroupBuilder {
  return { exact: new Map(), prefix: new Map(), regex: [], grpc: [] };
}

export function addEntry(group: GroupBuilder, e: SortableEntry): void {
  const kind = e.entry.pathKind;
  if (kind === 'GRPC') group.grpc.push(e);
  else if (kind === 'RegularExpression') group.regex.push(e);
  else {
    const map = kind === 'Exact' ? group.exact : group.prefix;
    const list = map.get(e.entry.path);
    if (list) list.push(e);
    else map.set(e.entry.path, [e]);
  }
}

function compareOrder(a: SortableEntry, b: SortableEntry): number {
  const n = Math.min(a.order.length, b.order.length);
  for (let i = 0; i < n; i++) {
    const x = a.order[i] as string | number;
    const y = b.order[i] as string | number;
    if (x < y) return -1;
    if (x > y) return 1;
  }
  return a.order.length - b.order.length;
}

const sorted = (list: SortableEntry[]): MatchEntryIR[] => list.sort(compareOrder).map((e) => e.entry);

/** Sorts every bucket by precedence, records the prefix lengths to probe, and drops the sort keys. */
export function finalizeGroup(group: GroupBuilder): MatchGroupIR {
  return {
    exact: [...group.exact].map(([path, list]) => [path, sorted(list)]),
    prefix: [...group.prefix].map(([path, list]) => [path, sorted(list)]),
    prefixLengths: [...new Set([...group.prefix.keys()].map((p) => p.length))].sort((a, b) => b - a),
    regex: sorted(group.regex),
    grpc: sorted(group.grpc),
  };
}
