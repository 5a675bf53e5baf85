// Prints the attached-policy benchmark table from wrk's --latency outputs (WORK/wrk-MODE-ROUND.txt): per
// case, the round with the most req/s (the machine is shared: interference only ever slows a round down),
// its p50 and p99, and the ratios to the no-policy case (a) against the targets; then every round's ratio.
// Exit code 0 either way: a benchmark reports, it does not gate.
//   node bench/policies/report.ts WORK ROUNDS ROUTES CONNECTIONS DURATION
import path from 'node:path';
import { parseWrk } from '../lib/wrk.ts';

const [work, rounds, routes, connections, duration] = process.argv.slice(2) as string[];

const CASES = [
  { mode: 'none', name: '(a) no policy', target: undefined },
  { mode: 'local', name: '(b) local limit, Distinct header, never reached', target: 0.95 },
  { mode: 'access', name: '(c) AccessPolicy allow-cidrs', target: 0.85 },
  { mode: 'redis', name: '(d) global limit in Redis', target: 0.6 },
] as const;

const runs = CASES.map((c) =>
  Array.from({ length: Number(rounds) }, (_, i) => parseWrk(path.join(work!, `wrk-${c.mode}-${i + 1}.txt`))),
);
const best = runs.map((list) => list.reduce((a, b) => (b.rps > a.rps ? b : a)));
const a = best[0]!;
const lines = [
  `attached-policy benchmark: tenantgate proxy, ${routes} HTTPRoutes, wrk -t1 -c${connections} -d${duration}, ` +
    `${rounds} interleaved rounds (best round per case), backend nginx (1 worker), 2-core machine`,
  '',
  `${'case'.padEnd(50)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'req/s÷(a)'.padStart(10)} ${'p99÷(a)'.padStart(8)}  target`,
];
CASES.forEach((c, i) => {
  const w = best[i]!;
  const ratio = w.rps / a.rps;
  const verdict =
    c.target === undefined ? '' : `>= ${c.target.toFixed(2)} ${ratio >= c.target ? 'ok' : 'MISSED'}`;
  lines.push(
    `${c.name.padEnd(50)} ${w.rps.toFixed(0).padStart(8)} ${w.p50ms.toFixed(2).padStart(8)} ${w.p99ms.toFixed(2).padStart(8)} ${ratio.toFixed(2).padStart(10)} ${(w.p99ms / a.p99ms).toFixed(2).padStart(8)}  ${verdict}`,
  );
  const bad = runs[i]!.reduce((n, r) => n + r.non2xx, 0);
  if (bad > 0) lines.push(`  !! ${c.name}: ${bad} non-2xx answers: the run is not valid`);
});
lines.push('', 'per round, req/s ÷ (a) of the same round:');
for (let r = 0; r < Number(rounds); r++) {
  const base = runs[0]![r]!.rps;
  lines.push(
    `  round ${r + 1}: (a) ${base.toFixed(0)} req/s; ` +
      CASES.slice(1)
        .map((c, i) => `${c.name.slice(0, 3)} ${(runs[i + 1]![r]!.rps / base).toFixed(2)}`)
        .join(', '),
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
