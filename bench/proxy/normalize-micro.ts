// What request-target normalisation costs on the routing step. With 1,000 benchmark HTTPRoutes loaded,
// times the routing step of the pipeline as it is (`routeRequest`: Host checks, target parsing, path
// normalisation, host selection, match) against the routing step as it was before normalisation
// (target split as written, host selection, match: the baseline below, kept verbatim), in interleaved
// rounds so that machine noise hits both alike. Two request mixes: `clean` (paths already normal, the
// traffic a proxy sees) and `dirty` (every path needs rewriting: dot segments, repeated slashes, escapes).
// Prints per round ns/request for both, the median overhead, and what that overhead is as a share of a
// proxied request at the given throughput (env RPS, default the last `make bench-proxy` figure).
//   node bench/proxy/normalize-micro.ts        (env: ROUTES=1000 ROUNDS=15 N=100000 RPS=6000)
import { performance } from 'node:perf_hooks';
import { inputsFromObjects } from '../../proxy/model/inputs.ts';
import type { ClientRequest } from '../../proxy/runtime/route-request.ts';
import { routeRequest } from '../../proxy/runtime/route-request.ts';
import { DEFAULT_REQUEST_TARGET_OPTIONS } from '../../proxy/runtime/request-target.ts';
import { compileRouteTable } from '../../proxy/table/compile.ts';
import { findMatch, selectHost, type MatchRequest } from '../../proxy/table/match.ts';
import type { CompiledBind } from '../../proxy/table/types.ts';
import { benchObjects, hostOf, prefixOf } from './routes.ts';

const ROUTES = Number(process.env.ROUTES ?? 1000);
const ROUNDS = Number(process.env.ROUNDS ?? 15);
const N = Number(process.env.N ?? 100_000);
const RPS = Number(process.env.RPS ?? 6000);

const { inputs } = inputsFromObjects(
  benchObjects({ routes: ROUTES, listenerPort: 18080, backendAddress: '127.0.0.1', backendPort: 8080 }),
);
const { table } = compileRouteTable(inputs, {
  controllerName: 'tenantgate.io/gateway-controller',
  defaultAddress: '127.0.0.1',
});
const bind = [...table.binds.values()][0] as CompiledBind;

/** The routing step before request-target normalisation (b710f9f route-request.ts), for the baseline. */
function baselineRoute(req: ClientRequest, b: CompiledBind): unknown {
  const headers = req.headers;
  const ct = headers['content-type'];
  const grpc = ct !== undefined && ct.startsWith('application/grpc');
  const rawHost = headers.host;
  if (!rawHost) return undefined;
  const sel = selectHost(b, rawHost);
  if (!sel.listener) return undefined;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const target = q < 0 ? { path: url, search: '' } : { path: url.slice(0, q), search: url.slice(q) };
  const mreq: MatchRequest = {
    method: req.method ?? 'GET',
    path: target.path,
    query: target.search.length > 1 ? target.search.slice(1) : '',
    headers,
  };
  const entry = findMatch(sel, mreq, grpc);
  if (!entry) return undefined;
  return {
    rawHost,
    listener: sel.listener,
    entry,
    rule: entry.rule,
    path: target.path,
    search: target.search,
    grpc,
  };
}

/** Request objects with the members routing reads, as Node's IncomingMessage has them. */
function requests(dirty: boolean): ClientRequest[] {
  const out: ClientRequest[] = [];
  for (let i = 0; i < 1000; i++) {
    const r = (i * 7919) % ROUTES;
    const kind = i % 4;
    const clean = [
      `${prefixOf(r)}/items`,
      `${prefixOf(r)}/a/b/c/d`,
      `${prefixOf(r)}/items?x=1&y=2`,
      prefixOf(r),
    ][kind]!;
    const messy = [
      `${prefixOf(r)}/x/../items`,
      `/${prefixOf(r)}//a/./b/c/d`,
      `${prefixOf(r)}/%69tems?x=1&y=2`,
      `${prefixOf(r)}/a/%2E%2E`,
    ][kind]!;
    const host = hostOf(r);
    const headers = {
      host,
      'user-agent': 'wrk',
      accept: '*/*',
      ...(kind === 1 ? { 'x-canary': 'true' } : {}),
    };
    const rawHeaders = Object.entries(headers).flatMap(([k, v]) => [k === 'host' ? 'Host' : k, v]);
    out.push({
      method: 'GET',
      url: dirty ? messy : clean,
      headers,
      rawHeaders,
      httpVersionMajor: 1,
      httpVersion: '1.1',
      socket: {},
    } as unknown as ClientRequest);
  }
  return out;
}

let sink = 0;
function time(route: (req: ClientRequest) => unknown, reqs: ClientRequest[]): number {
  const t = performance.now();
  for (let i = 0; i < N; i++) {
    const r = route(reqs[i % reqs.length]!);
    if (r !== undefined && r !== null && typeof r === 'object' && 'entry' in r) sink++;
  }
  return ((performance.now() - t) * 1e6) / N;
}

const before = (req: ClientRequest) => baselineRoute(req, bind);
const after = (req: ClientRequest) => routeRequest(req, bind, DEFAULT_REQUEST_TARGET_OPTIONS);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const report: Record<string, unknown> = { routes: ROUTES, rounds: ROUNDS, perRound: N };
for (const mix of ['clean', 'dirty'] as const) {
  const reqs = requests(mix === 'dirty');
  // both must route every request (the dirty mix once normalised)
  if (!reqs.every((r) => 'entry' in (after(r) as object))) throw new Error(`${mix}: a request did not route`);
  time(before, reqs);
  time(after, reqs); // warm-up (JIT, host cache)
  const rows: { round: number; beforeNs: number; afterNs: number }[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // alternate which goes first, so a slow phase of the machine does not always fall on one side
    const first = round % 2 === 0 ? time(before, reqs) : undefined;
    const a = time(after, reqs);
    const b = first ?? time(before, reqs);
    rows.push({ round, beforeNs: Math.round(b * 10) / 10, afterNs: Math.round(a * 10) / 10 });
  }
  const extra = median(rows.map((r) => r.afterNs - r.beforeNs));
  report[mix] = {
    rows,
    medianBeforeNs: median(rows.map((r) => r.beforeNs)),
    medianAfterNs: median(rows.map((r) => r.afterNs)),
    medianExtraNs: Math.round(extra * 10) / 10,
    // the least disturbed round of each: on a busy machine the closest to the true cost
    minBeforeNs: Math.min(...rows.map((r) => r.beforeNs)),
    minAfterNs: Math.min(...rows.map((r) => r.afterNs)),
    // the request budget at RPS requests/s on one core is 1e9/RPS ns; the extra is this share of it
    shareOfRequestAtRps: `${((extra / (1e9 / RPS)) * 100).toFixed(3)} %`,
  };
}
if (sink === 0) throw new Error('nothing routed');
report.rps = RPS;
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
