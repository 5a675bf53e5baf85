// Prints the benchmark table: req/s, p50, p99 per proxy from wrk's --latency output, the ratios the
// targets are stated in, the lookup microbenchmark and the RSS. Exit code 0 either way: a benchmark
// reports, it does not gate.
import { parseWrk, type Wrk } from '../lib/wrk.ts';

const [aFile, bFile, cFile, lookupJson, rssKb, routes, lookupRoutes, connections, duration] =
  process.argv.slice(2) as string[];

const a = parseWrk(aFile!);
const b = parseWrk(bFile!);
const c = parseWrk(cFile!);
const lookup = JSON.parse(lookupJson!) as { nsPerLookup: number; compileMs: number };
const rssMb = Number(rssKb) / 1024;

const row = (name: string, w: Wrk) =>
  `${name.padEnd(44)} ${w.rps.toFixed(0).padStart(9)} ${w.p50ms.toFixed(2).padStart(9)} ${w.p99ms.toFixed(2).padStart(9)}`;
const check = (ok: boolean) => (ok ? 'ok' : 'MISSED');
const lines = [
  `proxy benchmark: wrk -t1 -c${connections} -d${duration}, same backend (nginx, 1 worker), 2-core machine`,
  '',
  `${'proxy'.padEnd(44)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)}`,
  row('(a) nginx, 1 worker', a),
  row('(b) bare keep-alive undici Node proxy', b),
  row(`(c) tenantgate proxy, ${routes} HTTPRoutes`, c),
  '',
  `(c)/(b) req/s  ${(c.rps / b.rps).toFixed(2)}   target >= 0.90   ${check(c.rps / b.rps >= 0.9)}`,
  `(c)/(a) req/s  ${(c.rps / a.rps).toFixed(2)}   target >= 0.35   ${check(c.rps / a.rps >= 0.35)}`,
  `(c)/(a) p99    ${(c.p99ms / a.p99ms).toFixed(2)}   target <= 2      ${check(c.p99ms / a.p99ms <= 2)}`,
  `route lookup at ${lookupRoutes} routes: ${(lookup.nsPerLookup / 1000).toFixed(3)} µs   target <= 2 µs   ${check(lookup.nsPerLookup <= 2000)}   (compile ${lookup.compileMs} ms)`,
  `RSS with ${lookupRoutes} routes: ${rssMb.toFixed(0)} MB   target <= 200 MB   ${check(rssMb <= 200)}`,
];
process.stdout.write(`${lines.join('\n')}\n`);
