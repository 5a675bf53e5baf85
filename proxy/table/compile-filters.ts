// HTTPRoute filters compiled once per snapshot into plain data (the IR) the pipeline applies without
// re-reading the spec: header modifiers keyed by lower-cased name, redirects and rewrites, mirrors with
// their probability, CORS with its origin patterns (as expression sources; materialize.ts compiles them).
import type { HeaderModifier, HTTPRouteFilter, PathModifier } from '../model/gateway-api.ts';
import type { CorsIR, HeaderModifierIR, PathModifierIR, RedirectIR, RewriteIR } from './ir.ts';

export interface CompiledFilterSet {
  requestHeaders?: HeaderModifierIR;
  responseHeaders?: HeaderModifierIR;
  redirect?: RedirectIR;
  rewrite?: RewriteIR;
  cors?: CorsIR;
  /** RequestMirror filters, in order, with their probability in percent */
  mirrors: { filter: HTTPRouteFilter; percent: number }[];
  /** why the set cannot be served as written */
  invalid?: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Why a header modifier cannot be sent as written (a name that is not a token, a control character). */
export function headerModifierProblem(m: HeaderModifier | undefined): string | undefined {
  for (const h of [...(m?.set ?? []), ...(m?.add ?? [])]) {
    if (!TOKEN.test(h.name)) return `header name ${JSON.stringify(h.name)} is not a valid HTTP token`;
    if (!FIELD_VALUE.test(h.value)) return `header ${h.name}: the value contains a control character`;
  }
  for (const name of m?.remove ?? [])
    if (!TOKEN.test(name)) return `header name ${JSON.stringify(name)} is not a valid HTTP token`;
  return undefined;
}

export function compileHeaderModifier(m: HeaderModifier | undefined): HeaderModifierIR | undefined {
  if (!m) return undefined;
  const set = (m.set ?? []).map((h): [string, string, string] => [h.name.toLowerCase(), h.name, h.value]);
  const add = (m.add ?? []).map((h): [string, string, string] => [h.name.toLowerCase(), h.name, h.value]);
  const remove = [...new Set((m.remove ?? []).map((n) => n.toLowerCase()))];
  if (!set.length && !add.length && !remove.length) return undefined;
  return { set, add, remove };
}

/** Merges two modifiers (two filters of the same type in one rule): the later one's operations follow. */
function mergeModifiers(
  a: HeaderModifierIR | undefined,
  b: HeaderModifierIR | undefined,
): HeaderModifierIR | undefined {
  if (!a) return b;
  if (!b) return a;
  return {
    set: [...a.set, ...b.set],
    add: [...a.add, ...b.add],
    remove: [...new Set([...a.remove, ...b.remove])],
  };
}

function compilePath(p: PathModifier | undefined): PathModifierIR | undefined | 'invalid' {
  if (!p) return undefined;
  if (p.type === 'ReplaceFullPath' && p.replaceFullPath !== undefined)
    return { type: p.type, value: p.replaceFullPath };
  if (p.type === 'ReplacePrefixMatch' && p.replacePrefixMatch !== undefined)
    return { type: p.type, value: p.replacePrefixMatch };
  return 'invalid';
}

function mirrorPercent(f: HTTPRouteFilter): number {
  const m = f.requestMirror!;
  if (m.percent !== undefined) return Math.max(0, Math.min(100, m.percent));
  if (m.fraction) {
    const denominator = m.fraction.denominator ?? 100;
    return denominator > 0 ? Math.max(0, Math.min(100, (100 * m.fraction.numerator) / denominator)) : 0;
  }
  return 100;
}

function originPattern(origin: string): string {
  // "https://*.bar.com": the wildcard stands for one or more DNS labels
  const escaped = origin
    .toLowerCase()
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '[a-z0-9-]+(?:\\.[a-z0-9-]+)*');
  return `^${escaped}$`;
}

function compileCors(c: NonNullable<HTTPRouteFilter['cors']>): CorsIR {
  const origins = new Set<string>();
  const originPatterns: string[] = [];
  let anyOrigin = false;
  for (const o of c.allowOrigins ?? []) {
    if (o === '*') anyOrigin = true;
    else if (o.includes('*')) originPatterns.push(originPattern(o));
    else origins.add(o.toLowerCase());
  }
  const methods = c.allowMethods ?? [];
  const headers = c.allowHeaders ?? [];
  return {
    origins: [...origins],
    originPatterns,
    anyOrigin,
    allowCredentials: c.allowCredentials === true,
    allowMethods: methods.filter((m) => m !== '*'),
    anyMethod: methods.includes('*'),
    allowHeaders: headers.filter((h) => h !== '*'),
    anyHeader: headers.includes('*'),
    exposeHeaders: (c.exposeHeaders ?? []).join(', '),
    maxAge: c.maxAge !== undefined ? String(c.maxAge) : undefined,
  };
}

export function compileFilters(
  filters: readonly HTTPRouteFilter[] | undefined,
  where: string,
): CompiledFilterSet {
  const out: CompiledFilterSet = { mirrors: [] };
  for (const f of filters ?? []) {
    switch (f.type) {
      case 'RequestHeaderModifier':
      case 'ResponseHeaderModifier': {
        const m = f.type === 'RequestHeaderModifier' ? f.requestHeaderModifier : f.responseHeaderModifier;
        const problem = headerModifierProblem(m);
        if (problem) {
          out.invalid = `${where}: ${f.type}: ${problem}`;
          break;
        }
        if (f.type === 'RequestHeaderModifier')
          out.requestHeaders = mergeModifiers(out.requestHeaders, compileHeaderModifier(m));
        else out.responseHeaders = mergeModifiers(out.responseHeaders, compileHeaderModifier(m));
        break;
      }
      case 'RequestRedirect': {
        const r = f.requestRedirect ?? {};
        const path = compilePath(r.path);
        if (path === 'invalid') {
          out.invalid = `${where}: RequestRedirect.path needs the value for its type`;
          break;
        }
        out.redirect = {
          scheme: r.scheme?.toLowerCase(),
          hostname: r.hostname,
          port: r.port,
          path,
          statusCode: r.statusCode ?? 302,
        };
        break;
      }
      case 'URLRewrite': {
        const r = f.urlRewrite ?? {};
        const path = compilePath(r.path);
        if (path === 'invalid') {
          out.invalid = `${where}: URLRewrite.path needs the value for its type`;
          break;
        }
        out.rewrite = { hostname: r.hostname, path };
        break;
      }
      case 'RequestMirror':
        if (f.requestMirror?.backendRef) out.mirrors.push({ filter: f, percent: mirrorPercent(f) });
        break;
      case 'CORS':
        if (f.cors) out.cors = compileCors(f.cors);
        break;
      default:
        out.invalid = `${where}: filter type ${f.type} is not supported`;
    }
  }
  if (out.redirect && out.rewrite)
    out.invalid = `${where}: RequestRedirect and URLRewrite cannot be used together`;
  return out;
}
