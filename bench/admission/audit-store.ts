// What the durable audit store costs admission: the webhook server with the real handler and policies,
// at concurrency 2, with the store off (no audit sink), with SQLite (committed, fsync'd, before the answer
// leaves) and with PostgreSQL (a real server, fsync on; the answer waits for the local spool's fsync, the
// shipment to PostgreSQL runs in the background), in the same run, alternating. Two review mixes: the
// usual one (20% violate a policy) and every review refused (the worst case: one store write each).
// Both again with TENANTGATE_AUDIT_SYNC=NORMAL (written before the answer, fsync'd later), to show what
// the fsync costs. Here PostgreSQL shares the machine (CPU and disk) with the webhook, unlike in a cluster.
// Target (issue 10): the store adds <= 1 ms to p99 at concurrency 2.
//
// Run: node_modules/.bin/node bench/admission/audit-store.ts [--seconds 4] [--rounds 2] [--concurrency 2]
//      [--intervals 50,1000]  (also PostgreSQL FULL loading every 50 ms, every 1000 ms: the batching's effect)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PolicyEngine } from '../../policies/engine.ts';
import { createAdmissionHandler, type AdmissionHandler } from '../../webhooks/handler.ts';
import { openAuditTrail, type AuditTrail } from '../../webhooks/audit/trail.ts';
import { startPostgres } from '../../test/env/postgres.ts';
import { benchInventory, benchReviews } from './fixtures.ts';
import { loadDriver, type LoadRun } from './load-driver.ts';
import { cpuUsed, sampleCpu, type CpuSample } from './thread-cpu.ts';

const { values } = parseArgs({
  options: {
    tenants: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '4' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '2' },
    // investigating: only these variants (comma-separated; 'store off' is always run) and mixes ('usual', 'refused')
    only: { type: 'string' },
    mix: { type: 'string' },
    // extra variants: PostgreSQL FULL with these load intervals (ms) rather than the default
    intervals: { type: 'string' },
  },
});
const tenants = Number(values.tenants);

const dir = mkdtempSync(join(tmpdir(), 'tg-bench-audit-'));
const driver = await loadDriver(dir);
const all = benchReviews(tenants, 2000);
const mixes = {
  'usual mix (20% refused)': all,
  'every review refused': all.filter((_, i) => i % 10 === 7 || i % 10 === 8),
};
const mixFiles = Object.fromEntries(
  Object.entries(mixes)
    .filter(([name]) => !values.mix || name.startsWith(values.mix === 'refused' ? 'every' : values.mix))
    .map(([name, bodies], i) => {
      const file = join(dir, `reviews-${i}.json`);
      writeFileSync(file, JSON.stringify(bodies));
      return [name, file];
    }),
);

const engine = await PolicyEngine.create({});
engine.setData(benchInventory(tenants));
const pg = await startPostgres({ fsync: true });
const trails: Record<string, AuditTrail | undefined> = {
  'store off': undefined,
  sqlite: await openAuditTrail({ store: { backend: 'sqlite', path: join(dir, 'audit.db') } }),
  postgres: await openAuditTrail({
    store: { backend: 'postgres', dsn: pg.dsn, spoolPath: join(dir, 'spool') },
  }),
  // without the fsync before answering (TENANTGATE_AUDIT_SYNC=NORMAL): what the fsync itself costs
  'sqlite NORMAL': await openAuditTrail({
    store: { backend: 'sqlite', path: join(dir, 'audit-normal.db'), synchronous: 'NORMAL' },
  }),
  'postgres NORMAL': await openAuditTrail({
    store: {
      backend: 'postgres',
      dsn: pg.dsn,
      spoolPath: join(dir, 'spool-normal'),
      synchronous: 'NORMAL',
    },
  }),
};
for (const ms of values.intervals?.split(',') ?? [])
  trails[`postgres ${ms}ms`] = await openAuditTrail({
    store: {
      backend: 'postgres',
      dsn: pg.dsn,
      spoolPath: join(dir, `spool-${ms}`),
      loadIntervalMs: Number(ms),
    },
  });

let serial = 0;
/** every review gets a fresh uid, as the API server gives it: a repeated uid would skip the store write */
function freshUids(handler: AdmissionHandler): AdmissionHandler {
  return (body, raw) => {
    const request = (body as { request?: { uid?: string } }).request;
    if (request) request.uid = `bench-${process.pid}-${++serial}`;
    return handler(body, raw);
  };
}

/** waits until no store has background work left (loading, shipping): none is billed to the next run */
async function settle(): Promise<void> {
  for (const t of Object.values(trails)) await t?.spool?.drain(30_000);
}

type Measured = LoadRun & { cpu: CpuSample };

async function measure(
  trail: AuditTrail | undefined,
  bodiesFile: string,
  seconds: number,
): Promise<Measured> {
  await settle();
  const handler = freshUids(createAdmissionHandler({ engine, ...(trail ? { audit: trail } : {}) }));
  const before = sampleCpu();
  const run = await driver.run(handler, bodiesFile, seconds, Number(values.concurrency));
  return { ...run, cpu: cpuUsed(before, sampleCpu()) };
}

const rounds = Number(values.rounds);
const lines: string[] = [
  `audit store overhead on admission: ${tenants} tenants, HTTPS keep-alive, concurrency ${values.concurrency}, ${rounds} rounds x ${values.seconds}s, variants interleaved (order rotated each round); medians of the rounds`,
  `CPU per review (us): main = event loop, audit-* = the store's threads, libuv = its pool, v8 = GC/compiler helpers, pg = PostgreSQL server, load = the load generator`,
];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const us = (seconds: number, reviews: number) => ((seconds / reviews) * 1e6).toFixed(0);
function cpuLine(r: Measured): string {
  const parts = [...r.cpu]
    .filter(([, s]) => s > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, s]) => `${k === 'postgres' ? 'pg' : k} ${us(s, r.count)}`);
  return `cpu/review: ${parts.join(' ')} load ${us(r.loadCpuSeconds, r.count)}`;
}
const only = values.only?.split(',');
const names = Object.keys(trails).filter((n) => !only || n === 'store off' || only.includes(n));
for (const [mix, file] of Object.entries(mixFiles)) {
  for (const trail of Object.values(trails)) await measure(trail, file, 1); // warm-up
  const results: Record<string, Measured[]> = {};
  lines.push(`${mix}:`);
  for (let round = 0; round < rounds; round++) {
    // rotated: no variant always runs right after the same other one
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    for (const name of order) {
      const r = await measure(trails[name], file, Number(values.seconds));
      (results[name] ??= []).push(r);
      lines.push(
        `  round ${round + 1} ${name.padEnd(16)} ${(r.count / r.seconds).toFixed(0).padStart(6)} reviews/s   p50 ${r.p50.toFixed(2)} ms   p90 ${r.p90.toFixed(2)} ms   p99 ${r.p99.toFixed(2)} ms   ${cpuLine(r)}`,
      );
      process.stderr.write(lines.at(-1)! + '\n');
    }
  }
  const p99Off = median(results['store off']!.map((r) => r.p99));
  for (const name of names) {
    const rs = results[name]!;
    const p50 = median(rs.map((r) => r.p50));
    const p99 = median(rs.map((r) => r.p99));
    const rps = median(rs.map((r) => r.count / r.seconds));
    const delta =
      name === 'store off'
        ? ''
        : `   p99 ${p99 - p99Off >= 0 ? '+' : ''}${(p99 - p99Off).toFixed(2)} ms vs off: ${p99 - p99Off <= 1 ? 'met' : 'MISSED'} (<= 1 ms)`;
    lines.push(
      `  median ${name.padEnd(16)} ${rps.toFixed(0).padStart(6)} reviews/s   p50 ${p50.toFixed(2)} ms   p99 ${p99.toFixed(2)} ms${delta}`,
    );
  }
}
await settle();
let left = 0;
for (const t of Object.values(trails)) left += t?.spool?.depth ?? 0;
lines.push(`spools after the run: ${left} records left unloaded (0 expected)`);
process.stdout.write(lines.join('\n') + '\n');
for (const t of Object.values(trails)) await t?.close();
await pg.stop();
rmSync(dir, { recursive: true, force: true });
