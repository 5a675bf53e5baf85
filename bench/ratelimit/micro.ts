// Micro-benchmark of the rate-limit engine: ns per operation for local evaluation and for the Redis round
// trip, each beside a baseline measured in the same run (printed as a ratio, since absolute figures depend
// on the machine). Local evaluation runs in interleaved rounds (ROUNDS, default 3; every round printed),
// with Distinct header keys named both ways: by a SHA-256 digest (what Redis counters use, and what local
// ones used before) and by the length-prefixed values themselves (local counters now; selectors.ts). Run: node_modules/.bin/node bench/ratelimit/micro.ts  (REDIS_URL=... to use a running
// Redis; otherwise a throwaway redis-server is started).
import { Redis } from 'ioredis';
import type { RequestContext, RequestPolicy } from '../../proxy/request-policy.ts';
import { LocalStore } from '../../proxy/ratelimit/local-store.ts';
import { RateLimitRequestPolicy } from '../../proxy/ratelimit/policy.ts';
import type { ClientKeying } from '../../proxy/ratelimit/selectors.ts';
import { RedisStore } from '../../proxy/ratelimit/redis-store.ts';
import type { RateLimitStore } from '../../proxy/ratelimit/store.ts';
import { rateLimitPolicy, request } from '../../test/helpers/ratelimit.ts';
import { startRedis } from '../../test/env/redis.ts';

const KEYS = 1_000;
const contexts: RequestContext[] = Array.from({ length: KEYS }, (_, i) =>
  request({ headers: { 'x-api-key': `key-${i}-${'k'.repeat(32)}` }, sourceIp: `10.0.${i >> 8}.${i & 255}` }),
);

const ROUNDS = Number(process.env.ROUNDS ?? 3);

function makePolicy(
  store: RateLimitStore,
  selector: 'header' | 'ip' | 'none',
  keying?: ClientKeying,
): RequestPolicy {
  const clientSelectors =
    selector === 'header'
      ? [{ headers: [{ name: 'x-api-key', type: 'Distinct' as const }] }]
      : selector === 'ip'
        ? [{ sourceCIDR: { type: 'Distinct' as const, value: '0.0.0.0/0' } }]
        : undefined;
  // a limit that is never reached: the cost measured is that of counting, not of refusing
  const limits = [
    {
      name: 'never',
      requests: 1_000_000_000,
      unit: 'Second' as const,
      ...(clientSelectors ? { clientSelectors } : {}),
    },
  ];
  return new RateLimitRequestPolicy({
    policy: rateLimitPolicy({ name: `bench-${selector}`, limits }),
    scope: 'HTTPRoute/team/api',
    store,
    ...(keying ? { keying } : {}),
  });
}

function nsPerOpSync(fn: (i: number) => unknown, iterations: number): number {
  for (let i = 0; i < iterations / 10; i++) fn(i); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn(i);
  return Number(process.hrtime.bigint() - start) / iterations;
}

async function nsPerOpSequential(fn: (i: number) => Promise<unknown>, iterations: number): Promise<number> {
  for (let i = 0; i < iterations / 10; i++) await fn(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn(i);
  return Number(process.hrtime.bigint() - start) / iterations;
}

/** `inFlight` concurrent callers: the per-request cost when auto-pipelining batches them. */
async function nsPerOpConcurrent(
  fn: (i: number) => Promise<unknown>,
  iterations: number,
  inFlight: number,
): Promise<number> {
  const run = async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < iterations) await fn(next++);
      }),
    );
  };
  await run();
  const start = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - start) / iterations;
}

function row(name: string, ns: number, baseline?: { name: string; ns: number }): void {
  const ratio = baseline ? `  ${(ns / baseline.ns).toFixed(2)}x ${baseline.name}` : '';
  console.log(`${name.padEnd(52)} ${ns.toFixed(0).padStart(9)} ns/op${ratio}`);
}

async function main(): Promise<void> {
  const N = 200_000;
  const noop: RequestPolicy = { name: 'noop', kind: 'RateLimitPolicy', evaluate: () => ({ allow: true }) };
  const local = new LocalStore();
  const cases: { label: string; policy: RequestPolicy }[] = [
    { label: 'one shared counter', policy: makePolicy(local, 'none') },
    { label: 'Distinct ip', policy: makePolicy(local, 'ip') },
    { label: 'Distinct header, digest key (before)', policy: makePolicy(local, 'header', 'digest') },
    { label: 'Distinct header, verbatim key (now)', policy: makePolicy(local, 'header', 'verbatim') },
  ];
  const perRound: number[][] = cases.map(() => []);
  for (let round = 1; round <= ROUNDS; round++) {
    const base = { name: 'no-op policy', ns: nsPerOpSync((i) => noop.evaluate(contexts[i % KEYS]!), N * 5) };
    row(`round ${round}: local: no-op policy (baseline)`, base.ns);
    cases.forEach((c, i) => {
      const ns = nsPerOpSync((j) => c.policy.evaluate(contexts[j % KEYS]!), N);
      perRound[i]!.push(ns - base.ns);
      row(`  local: evaluate, ${c.label} (${KEYS} clients)`, ns, base);
    });
  }
  console.log(`local: median of ${ROUNDS} rounds, ns per request over the no-op baseline (every round):`);
  cases.forEach((c, i) => {
    const sorted = [...perRound[i]!].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    console.log(
      `  ${c.label.padEnd(40)} ${median.toFixed(0).padStart(6)} ns   rounds: ${perRound[i]!.map((n) => n.toFixed(0)).join(', ')}`,
    );
  });
  await local.close();
  if (process.env.LOCAL_ONLY) return;

  const own = process.env.REDIS_URL ? undefined : await startRedis();
  const url = process.env.REDIS_URL ?? own!.url;
  try {
    const raw = new Redis(url);
    const plain = new RedisStore({ url, commandTimeoutMs: 5_000, name: 'bench' });
    const auto = new RedisStore({ url, commandTimeoutMs: 5_000, name: 'bench-auto', autoPipelining: true });
    await Promise.all([plain.ready(), auto.ready()]);
    const [p, pAuto] = [makePolicy(plain, 'header'), makePolicy(auto, 'header')];
    const eva = (policy: RequestPolicy) => async (i: number) => policy.evaluate(contexts[i % KEYS]!);
    const M = 5_000;
    const ping = { name: 'PING', ns: await nsPerOpSequential(() => raw.ping(), M) };
    row('redis: PING round trip (baseline)', ping.ns);
    row('redis: evaluate, one request at a time', await nsPerOpSequential(eva(p), M), ping);
    const pingConc = { name: 'PING x100', ns: await nsPerOpConcurrent(() => raw.ping(), 20_000, 100) };
    row('redis: PING, 100 in flight (baseline)', pingConc.ns);
    row('redis: evaluate, 100 in flight', await nsPerOpConcurrent(eva(p), 20_000, 100), pingConc);
    row(
      'redis: evaluate, 100 in flight, auto-pipelined',
      await nsPerOpConcurrent(eva(pAuto), 20_000, 100),
      pingConc,
    );
    const burst = async (policy: RequestPolicy) => {
      const start = process.hrtime.bigint();
      for (let round = 0; round < 10; round++) await Promise.all(contexts.map((c) => policy.evaluate(c)));
      return Number(process.hrtime.bigint() - start) / (10 * KEYS);
    };
    await burst(p);
    await burst(pAuto);
    row(`redis: evaluate, bursts of ${KEYS} in one tick`, await burst(p), pingConc);
    row(`redis: evaluate, bursts of ${KEYS} in one tick, auto-pipelined`, await burst(pAuto), pingConc);
    raw.disconnect();
    await Promise.all([plain.close(), auto.close()]);
  } finally {
    await own?.stop();
  }
}

await main();
