// Route-lookup microbenchmark: compiles N benchmark HTTPRoutes and times host selection + match for a
// fixed mix of requests (exact, prefix, header-matched, deep paths, misses). Prints JSON:
// {routes, compileMs, nsPerLookup, lookups, heapMB}.
//   node bench/proxy/lookup.ts 10000
import { performance } from 'node:perf_hooks';
import { inputsFromObjects } from '../../proxy/model/inputs.ts';
import { compileRouteTable } from '../../proxy/table/compile.ts';
import { materialize } from '../../proxy/table/materialize.ts';
import { findMatch, selectHost, type MatchRequest } from '../../proxy/table/match.ts';
import { benchObjects, hostOf, prefixOf } from './routes.ts';

const routes = Number(process.argv[2] ?? 10000);
const { inputs } = inputsFromObjects(
  benchObjects({ routes, listenerPort: 18080, backendAddress: '127.0.0.1', backendPort: 8080 }),
);
const t0 = performance.now();
const table = materialize(
  compileRouteTable(inputs, {
    controllerName: 'tenantgate.io/gateway-controller',
    defaultAddress: '127.0.0.1',
  }).ir,
);
const compileMs = performance.now() - t0;
const bind = [...table.binds.values()][0]!;

// a fixed mix; hosts spread over the whole table so the host cache is realistic (all hosts fit in it)
const requests: { host: string; req: MatchRequest }[] = [];
for (let i = 0; i < 1000; i++) {
  const r = (i * 7919) % routes;
  const kind = i % 5;
  const path =
    kind === 0
      ? `${prefixOf(r)}/exact`
      : kind === 1
        ? `${prefixOf(r)}/a/b/c/d`
        : kind === 2
          ? prefixOf(r)
          : kind === 3
            ? `${prefixOf(r)}/items?x=1`
            : '/nope';
  const headers: Record<string, string> =
    kind === 1 ? { 'x-canary': 'true', host: hostOf(r) } : { host: hostOf(r) };
  const q = path.indexOf('?');
  // the same object shape the pipeline builds (queryParams is filled lazily)
  const req: MatchRequest = {
    method: 'GET',
    path: q < 0 ? path : path.slice(0, q),
    query: q < 0 ? '' : path.slice(q + 1),
    headers,
    queryParams: undefined,
  };
  requests.push({ host: hostOf(r), req });
}

let sink = 0;
const run = (n: number) => {
  for (let i = 0; i < n; i++) {
    const { host, req } = requests[i % requests.length]!;
    req.queryParams = undefined;
    const m = findMatch(selectHost(bind, host), req, false);
    if (m) sink += m.rule.ruleIndex + 1;
  }
};
run(200_000); // warm up (JIT, host cache)
const n = 2_000_000;
const t1 = performance.now();
run(n);
const ns = ((performance.now() - t1) * 1e6) / n;
if (sink === 0) throw new Error('no lookup matched');
process.stdout.write(
  JSON.stringify({
    routes,
    compileMs: Math.round(compileMs),
    nsPerLookup: Math.round(ns * 10) / 10,
    lookups: n,
    heapMB: Math.round(process.memoryUsage().heapUsed / 1048576),
  }),
);
