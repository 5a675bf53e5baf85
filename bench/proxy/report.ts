// Prints the benchmark table: req/s, p50, p99 per proxy from wrk's --latency output, the ratios the
// targets are stated in, the lookup microbenchmark and the RSS. Exit code 0 either way: a benchmark
// reports, it does not gate.
import fs from 'node:fs';

const [aFile, bFile, cFile, lookupJson, rssKb, routes, lookupRoutes, connections, duration] =
  process.argv.slice(2) as string[];

interface Wrk {
  rps: number;
  p50ms: number;
  p99ms: number;
}

function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

function parseWrk(file: string): Wrk {
  const text = fs.readFileSync(file, 'utf8');
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
  const p50 = /^\s+50%\s+(\S+)/m.exec(text)?.[1] ?? '';
  const p99 = /^\s+99%\s+(\S+)/m.exec(text)?.[1] ?? '';
  return { rps, p50ms: toMs(p50), p99ms: toMs(p99) };
}

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
