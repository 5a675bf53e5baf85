// Micro-benchmark of policy evaluation alone (no HTTP): microseconds per admission review by kind of
// review, with 500 tenants loaded, beside an empty evaluation (a review no policy looks at) as baseline.
// Run: node_modules/.bin/node bench/admission/micro.ts [TENANTS]
import { PolicyEngine } from '../../policies/engine.ts';
import type { AdmissionRequest } from '../../policies/types.ts';
import { benchInventory, benchReviews } from './fixtures.ts';

const tenants = Number(process.argv[2] ?? 500);
const engine = await PolicyEngine.create({});
engine.setData(benchInventory(tenants));
const reviews = benchReviews(tenants, 1000).map(
  (b) => (JSON.parse(b) as { request: AdmissionRequest }).request,
);
const groups: Record<string, AdmissionRequest[]> = {
  'valid route': reviews.filter((_, i) => i % 10 < 7),
  'route with violations': reviews.filter((_, i) => i % 10 >= 7 && i % 10 < 9),
  RateLimitPolicy: reviews.filter((_, i) => i % 10 === 9),
  'baseline: unwatched kind': reviews
    .slice(0, 100)
    .map((r) => ({ ...r, kind: { group: 'apps', version: 'v1', kind: 'Deployment' } })),
};

/** The best of five rounds: the machine is shared, and noise only ever adds time. */
function usPerOp(list: AdmissionRequest[], iterations: number): number {
  for (let i = 0; i < 200; i++) engine.evaluateAdmission(list[i % list.length]!);
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const t = performance.now();
    for (let i = 0; i < iterations; i++) engine.evaluateAdmission(list[i % list.length]!);
    best = Math.min(best, ((performance.now() - t) / iterations) * 1000);
  }
  return best;
}

const baseline = usPerOp(groups['baseline: unwatched kind']!, 1000);
for (const [name, list] of Object.entries(groups)) {
  const us = usPerOp(list, 1000);
  process.stdout.write(
    `${name.padEnd(26)} ${us.toFixed(1).padStart(7)} us/review   ${(us / baseline).toFixed(2)}x baseline\n`,
  );
}
