// The benchmark's load generator, run as its own process so that it does not share a core with the
// server under test: POSTs AdmissionReviews over HTTPS keep-alive connections for a while, records each
// latency, prints {count, seconds, latencies summary} as JSON.
// Usage: node bench/admission/load.ts URL CA_FILE BODIES_FILE SECONDS CONCURRENCY
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

const [url, caFile, bodiesFile, secondsArg, concurrencyArg] = process.argv.slice(2);
const bodies = JSON.parse(readFileSync(bodiesFile!, 'utf8')) as string[];
const seconds = Number(secondsArg);
const concurrency = Number(concurrencyArg);
const target = new URL(url!);
const pool = new Pool(target.origin, {
  connections: concurrency,
  pipelining: 1,
  connect: { ca: readFileSync(caFile!, 'utf8') },
});

const latencies: number[] = [];
let errors = 0;
let next = 0;
const end = performance.now() + seconds * 1000;

async function worker(): Promise<void> {
  while (performance.now() < end) {
    const body = bodies[next++ % bodies.length]!;
    const started = performance.now();
    const res = await pool.request({
      path: target.pathname,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    await res.body.text();
    if (res.statusCode !== 200) errors++;
    latencies.push(performance.now() - started);
  }
}

const started = performance.now();
const cpu = process.cpuUsage();
await Promise.all(Array.from({ length: concurrency }, worker));
const elapsed = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpu);
await pool.close();
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
process.stdout.write(
  JSON.stringify({
    count: latencies.length,
    errors,
    seconds: elapsed,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    cpuSeconds: (used.user + used.system) / 1e6,
  }) + '\n',
);
