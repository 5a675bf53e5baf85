// Prints the proxy benchmark (bench/proxy/run.sh): per case the median over the rounds and every round of
// req/s, p99 and CPU µs per request, the ratios the targets are stated in, the lookup microbenchmark and
// the memory per process at 10,000 routes. Exit code 0 either way: run.sh already failed on wrk errors.
import fs from 'node:fs';
import path from 'node:path';
import { parseWrk } from '../lib/wrk.ts';

const [dir, roundsArg, routes, lookupRoutes, connections, duration, lookupJson, rssJson] = process.argv.slice(
  2,
) as string[];
const rounds = Number(roundsArg);
const CASES: [string, string][] = [
  ['a', '(a) nginx, 1 worker'],
  ['b', '(b) bare keep-alive undici Node proxy'],
  ['c', `(c) tenantgate, ${routes} routes, no policies`],
  ['d', '(d) tenantgate + allow-cidrs + Distinct limit'],
  ['c2', '(c2) = (c) with --workers 2'],
  ['d2', '(d2) = (d) with --workers 2'],
];

interface Round {
  rps: number;
  p99ms: number;
  cpuUsPerReq: number;
}

function round(c: string, r: number): Round {
  const file = path.join(dir!, `wrk-${c}-${r}.txt`);
  const w = parseWrk(file);
  const text = fs.readFileSync(file, 'utf8');
  const m = /cpu_ticks: (\d+) clk_tck: (\d+)/.exec(text)!;
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
  const cpuUs = (Number(m[1]) / Number(m[2])) * 1e6;
  return { rps: w.rps, p99ms: w.p99ms, cpuUsPerReq: cpuUs / requests };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const data = new Map(
  CASES.map(([c]) => [c, Array.from({ length: rounds }, (_, i) => round(c, i + 1))] as const),
);
const med = (c: string, k: keyof Round) => median(data.get(c)!.map((r) => r[k]));
const every = (c: string, k: keyof Round, digits: number) =>
  data
    .get(c)!
    .map((r) => r[k].toFixed(digits))
    .join(' / ');

const check = (ok: boolean) => (ok ? 'ok' : 'MISSED');
const ratio = (label: string, value: number, target: string, ok: boolean) =>
  `${label.padEnd(22)} ${value.toFixed(2).padStart(6)}   target ${target.padEnd(7)} ${check(ok)}`;
const lookup = JSON.parse(lookupJson!) as { nsPerLookup: number; compileMs: number };
const rss = JSON.parse(rssJson!) as Record<string, { primaryKb: number; workersKb: number[] }>;
const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

const lines = [
  `proxy benchmark: wrk -t1 -c${connections} -d${duration}, ${rounds} interleaved rounds, same backend (nginx, 1 worker);`,
  `wrk + backend pinned to one core, the proxy to the other (2-worker cases: both cores, shared with wrk)`,
  '',
  `${'case'.padEnd(46)} ${'req/s'.padStart(8)} ${'p99 ms'.padStart(7)} ${'CPU µs/req'.padStart(10)}   rounds: req/s | p99 ms | CPU µs/req`,
  ...CASES.map(
    ([c, name]) =>
      `${name.padEnd(46)} ${med(c, 'rps').toFixed(0).padStart(8)} ${med(c, 'p99ms').toFixed(2).padStart(7)} ${med(c, 'cpuUsPerReq').toFixed(1).padStart(10)}   ${every(c, 'rps', 0)} | ${every(c, 'p99ms', 2)} | ${every(c, 'cpuUsPerReq', 1)}`,
  ),
  '',
  'medians:',
  ratio('(c)/(b) req/s', med('c', 'rps') / med('b', 'rps'), '>= 1.0', med('c', 'rps') / med('b', 'rps') >= 1),
  ratio(
    '(d)/(b) req/s',
    med('d', 'rps') / med('b', 'rps'),
    '>= 0.90',
    med('d', 'rps') / med('b', 'rps') >= 0.9,
  ),
  ratio(
    '(d)/(a) req/s',
    med('d', 'rps') / med('a', 'rps'),
    '>= 0.35',
    med('d', 'rps') / med('a', 'rps') >= 0.35,
  ),
  ratio(
    '(d)/(b) p99',
    med('d', 'p99ms') / med('b', 'p99ms'),
    '<= 1.5',
    med('d', 'p99ms') / med('b', 'p99ms') <= 1.5,
  ),
  ratio('(c2)/(c) req/s', med('c2', 'rps') / med('c', 'rps'), '(info)', true),
  ratio('(d2)/(d) req/s', med('d2', 'rps') / med('d', 'rps'), '(info)', true),
  '',
  `route lookup at ${lookupRoutes} routes: ${(lookup.nsPerLookup / 1000).toFixed(3)} µs (compile ${lookup.compileMs} ms)`,
  ...Object.entries(rss).map(
    ([w, r]) =>
      `memory at ${lookupRoutes} routes, --workers ${w}: process ${mb(r.primaryKb)}` +
      (r.workersKb.length
        ? `, workers ${r.workersKb.map(mb).join(' + ')} (primary compiles, workers serve)`
        : ''),
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
