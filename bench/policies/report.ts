// Prints the attached-policy benchmark table: req/s and p99 per case from wrk's --latency output and the
// ratios to the no-policy case (a), against the targets. Exit code 0 either way: a benchmark reports.
//   node bench/policies/report.ts A_OUT B_OUT C_OUT D_OUT ROUTES CONNECTIONS DURATION
import fs from 'node:fs';

const [aFile, bFile, cFile, dFile, routes, connections, duration] = process.argv.slice(2) as string[];

interface Wrk {
  rps: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
}

function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

function parseWrk(file: string): Wrk {
  const text = fs.readFileSync(file, 'utf8');
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]),
    p50ms: toMs(/^\s+50%\s+(\S+)/m.exec(text)?.[1] ?? ''),
    p99ms: toMs(/^\s+99%\s+(\S+)/m.exec(text)?.[1] ?? ''),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0),
  };
}

const cases: [string, Wrk, number | undefined][] = [
  ['(a) no policy', parseWrk(aFile!), undefined],
  ['(b) local limit, Distinct header, never reached', parseWrk(bFile!), 0.95],
  ['(c) AccessPolicy allow-cidrs', parseWrk(cFile!), 0.85],
  ['(d) global limit in Redis', parseWrk(dFile!), 0.6],
];
const a = cases[0]![1];
const lines = [
  `attached-policy benchmark: tenantgate proxy, ${routes} HTTPRoutes, wrk -t1 -c${connections} -d${duration}, backend nginx (1 worker), 2-core machine`,
  '',
  `${'case'.padEnd(50)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'req/s ÷ (a)'.padStart(12)} ${'p99 ÷ (a)'.padStart(10)}  target`,
];
for (const [name, w, target] of cases) {
  const ratio = w.rps / a.rps;
  const verdict = target === undefined ? '' : `>= ${target.toFixed(2)} ${ratio >= target ? 'ok' : 'MISSED'}`;
  lines.push(
    `${name.padEnd(50)} ${w.rps.toFixed(0).padStart(8)} ${w.p50ms.toFixed(2).padStart(8)} ${w.p99ms.toFixed(2).padStart(8)} ${ratio.toFixed(2).padStart(12)} ${(w.p99ms / a.p99ms).toFixed(2).padStart(10)}  ${verdict}`,
  );
  if (w.non2xx > 0) lines.push(`  !! ${name}: ${w.non2xx} non-2xx answers (the run is not valid)`);
}
process.stdout.write(`${lines.join('\n')}\n`);
