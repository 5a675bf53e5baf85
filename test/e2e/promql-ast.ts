// PromQL as Prometheus itself parses it: the AST from its /api/v1/parse_query, turned back into PromQL text,
// so that a test can evaluate the parts of an alert expression (what it measures, without its threshold)
// and list the metrics a query reads. Covers the node types that /api/v1/parse_query returns.

export interface Matcher {
  name: string;
  type: '=' | '!=' | '=~' | '!~';
  value: string;
}

export type PromNode =
  | {
      type: 'aggregation';
      op: string;
      expr: PromNode;
      param: PromNode | null;
      grouping: string[];
      without: boolean;
    }
  | {
      type: 'binaryExpr';
      op: string;
      lhs: PromNode;
      rhs: PromNode;
      bool: boolean;
      matching: { card: string; labels: string[]; on: boolean; include: string[] } | null;
    }
  | { type: 'call'; func: { name: string }; args: PromNode[] }
  | { type: 'vectorSelector'; name: string; matchers: Matcher[]; offset: number }
  | { type: 'matrixSelector'; name: string; matchers: Matcher[]; range: number; offset: number }
  | { type: 'subquery'; expr: PromNode; range: number; step: number; offset: number }
  | { type: 'numberLiteral'; val: string }
  | { type: 'stringLiteral'; val: string }
  | { type: 'parenExpr'; expr: PromNode }
  | { type: 'unaryExpr'; op: string; expr: PromNode };

const COMPARISONS = new Set(['>', '<', '>=', '<=', '==', '!=']);
const SET_OPERATORS = new Set(['and', 'or', 'unless']);

const offset = (ms: number) => (ms ? ` offset ${ms}ms` : '');
const selector = (matchers: Matcher[]) =>
  `{${matchers.map((m) => `${m.name}${m.type}${JSON.stringify(m.value)}`).join(', ')}}`;

/** PromQL text for a node (fully parenthesised, so precedence is kept). */
export function render(n: PromNode): string {
  switch (n.type) {
    case 'aggregation': {
      const grouping = `${n.without ? 'without' : 'by'} (${n.grouping.join(', ')})`;
      const args = n.param ? `${render(n.param)}, ${render(n.expr)}` : render(n.expr);
      return `${n.op} ${grouping} (${args})`;
    }
    case 'binaryExpr': {
      let modifiers = n.bool ? ' bool' : '';
      const m = n.matching;
      if (m && (m.on || m.labels.length))
        modifiers += ` ${m.on ? 'on' : 'ignoring'} (${m.labels.join(', ')})`;
      if (m?.card === 'many-to-one') modifiers += ` group_left (${m.include.join(', ')})`;
      if (m?.card === 'one-to-many') modifiers += ` group_right (${m.include.join(', ')})`;
      return `(${render(n.lhs)}) ${n.op}${modifiers} (${render(n.rhs)})`;
    }
    case 'call':
      return `${n.func.name}(${n.args.map(render).join(', ')})`;
    case 'vectorSelector':
      return `${selector(n.matchers)}${offset(n.offset)}`;
    case 'matrixSelector':
      return `${selector(n.matchers)}[${n.range}ms]${offset(n.offset)}`;
    case 'subquery':
      return `(${render(n.expr)})[${n.range}ms:${n.step ? `${n.step}ms` : ''}]${offset(n.offset)}`;
    case 'numberLiteral':
      return n.val;
    case 'stringLiteral':
      return JSON.stringify(n.val);
    case 'parenExpr':
      return `(${render(n.expr)})`;
    case 'unaryExpr':
      return `${n.op}(${render(n.expr)})`;
  }
}

/**
 * What an alert expression measures: the operands of its comparisons (not the thresholds) and of its set
 * operators, and the argument of absent(). `rate(errors[5m]) > 0` measures `rate(errors[5m])`, which
 * must return series for the alert to be able to fire, whereas the whole expression returns series only
 * while it fires.
 */
export function measuredParts(n: PromNode): PromNode[] {
  if (n.type === 'parenExpr') return measuredParts(n.expr);
  if (n.type === 'binaryExpr' && ((COMPARISONS.has(n.op) && !n.bool) || SET_OPERATORS.has(n.op)))
    return [n.lhs, n.rhs].filter((side) => side.type !== 'numberLiteral').flatMap(measuredParts);
  if (n.type === 'call' && (n.func.name === 'absent' || n.func.name === 'absent_over_time'))
    return measuredParts(n.args[0]!);
  return [n];
}

/** Every metric name the expression reads. */
export function metricNames(n: PromNode): string[] {
  const names = new Set<string>();
  const walk = (node: PromNode | null): void => {
    if (!node) return;
    switch (node.type) {
      case 'vectorSelector':
      case 'matrixSelector':
        names.add(node.name);
        return;
      case 'aggregation':
        walk(node.param);
        walk(node.expr);
        return;
      case 'binaryExpr':
        walk(node.lhs);
        walk(node.rhs);
        return;
      case 'call':
        node.args.forEach(walk);
        return;
      case 'subquery':
      case 'parenExpr':
      case 'unaryExpr':
        walk(node.expr);
        return;
      default:
        return;
    }
  };
  walk(n);
  return [...names];
}
