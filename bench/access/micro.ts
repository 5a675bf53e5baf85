// Micro-benchmark of AccessPolicy evaluation per request: the Rego rule evaluated by the shared opa-wasm
// engine on the built-in bundle, through the RequestPolicy the proxy's pipeline calls. Prints the median
// and p99 per request for each built-in rule beside a baseline measured in the same run (a no-op
// RequestPolicy, timed the same way), and the median minus the baseline. Target: Rego evaluation
// <= 10 µs median per request.
// Run: node_modules/.bin/node bench/access/micro.ts   (needs `make policies`)
import { PolicyEngine } from '../../policies/engine.ts';
import { compileAccessPolicies } from '../../proxy/access/attach.ts';
import { accessPolicy, point, request, secret } from '../../test/helpers/access.ts';
import type { PolicyVerdict, RequestContext, RequestPolicy } from '../../proxy/request-policy.ts';

const SAMPLES = Number(process.env.SAMPLES ?? 50_000);
const TARGET_US = 10;

// Requests as browsers and API clients send them: 8 headers, varying client address and request id.
const contexts: RequestContext[] = Array.from({ length: 1_000 }, (_, i) =>
  request({
    method: 'GET',
    path: `/v1/orders/${i}`,
    host: 'api.acme.example.com',
    sourceIp: `10.${i >> 8}.${i & 255}.7`,
    headers: {
      host: 'api.acme.example.com',
      'user-agent':
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
      accept: 'application/json',
      'accept-encoding': 'gzip, deflate, br',
      'x-request-id': `0b7c${i.toString(16).padStart(4, '0')}-8f1e-4a2b-9c3d-5e6f7a8b9c0d`,
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      'x-tenant': 'acme',
      'x-api-key': i % 2 === 0 ? 'key-mobile-7f3a91c2' : 'key-unknown-00000000',
    },
  }),
);

const noop: RequestPolicy = { name: 'bench/noop', kind: 'AccessPolicy', evaluate: () => ALLOW };
const ALLOW: PolicyVerdict = { allow: true };

// One case per built-in rule, plus require-headers with a regular expression: opa-wasm compiles a
// pattern on every evaluation, so its cost depends on the pattern (shown apart, not hidden in an average).
const CASES: { label: string; rule: string; parameters: Record<string, unknown> }[] = [
  { label: 'allow-cidrs', rule: 'allow-cidrs', parameters: { cidrs: ['192.168.0.0/16', '10.0.0.0/8'] } },
  { label: 'methods', rule: 'methods', parameters: { methods: ['GET', 'HEAD'] } },
  {
    label: 'require-headers',
    rule: 'require-headers',
    parameters: { headers: [{ name: 'X-Tenant', value: 'acme' }, { name: 'X-Request-Id' }] },
  },
  { label: 'api-key (Secret, 2 keys)', rule: 'api-key', parameters: { secretRef: { name: 'keys' } } },
  {
    label: 'require-headers + pattern',
    rule: 'require-headers',
    parameters: { headers: [{ name: 'X-Request-Id', pattern: '^[0-9a-f-]{36}$' }] },
  },
];

/** Per-call times (ns), sorted; every call is timed alone so that the median is per request. */
function sample(policy: RequestPolicy): number[] {
  for (let i = 0; i < 5_000; i++) policy.evaluate(contexts[i % contexts.length]!); // warm up (JIT, wasm tiers)
  const times = new Float64Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    const ctx = contexts[i % contexts.length]!;
    const t = process.hrtime.bigint();
    policy.evaluate(ctx);
    times[i] = Number(process.hrtime.bigint() - t);
  }
  return [...times].sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const us = (ns: number) => (ns / 1000).toFixed(2).padStart(7);

async function main(): Promise<void> {
  const engine = await PolicyEngine.create();
  const { attach, index } = compileAccessPolicies(
    CASES.map((c, i) =>
      accessPolicy({
        name: `case-${i}`,
        targetRefs: [{ name: `case-${i}` }],
        rule: c.rule,
        parameters: c.parameters,
      }),
    ),
    {
      engine,
      secrets: [secret('team', 'keys', { mobile: 'key-mobile-7f3a91c2', web: 'key-web-22c8d0aa' })],
      namespaces: [],
    },
  );
  if (index.invalid.size > 0)
    throw new Error(`invalid bench policies: ${JSON.stringify([...index.invalid])}`);

  const base = sample(noop);
  const baseMedian = pct(base, 0.5);
  console.log(`AccessPolicy evaluation per request, ${SAMPLES} samples each (node ${process.version})`);
  console.log(`${'policy'.padEnd(34)} median µs    p99 µs   median - baseline µs`);
  console.log(`${'baseline: no-op RequestPolicy'.padEnd(34)} ${us(baseMedian)}   ${us(pct(base, 0.99))}`);
  const results: { label: string; net: number }[] = [];
  CASES.forEach((c, i) => {
    const [policy] = attach(point({ route: `case-${i}` }));
    const times = sample(policy!);
    const median = pct(times, 0.5);
    results.push({ label: c.label, net: median - baseMedian });
    console.log(
      `${`rule ${c.label}`.padEnd(34)} ${us(median)}   ${us(pct(times, 0.99))}   ${us(median - baseMedian)}`,
    );
  });
  for (const r of results) {
    const verdict = r.net <= TARGET_US * 1000 ? 'meets' : 'MISSES';
    console.log(
      `${r.label.padEnd(28)} ${us(r.net)} µs median over the baseline: ${verdict} the ${TARGET_US} µs target`,
    );
  }
}

await main();
