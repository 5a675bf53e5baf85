// Micro-benchmark of AccessPolicy evaluation per request: the Rego rule evaluated by the shared opa-wasm
// engine on the built-in bundle, through the RequestPolicy the proxy's pipeline calls. For each built-in
// rule it measures, in interleaved rounds (every round printed), the policy with its decision cache
// turned off ("evaluated": every request reaches the wasm) and on ("cached": the default; 1,000 distinct
// clients, within the cache's bound, so once each was seen every request is a hit), beside a baseline measured in the
// same round (a no-op RequestPolicy, timed the same way). Then the regular-expression builtins side by
// side on one pattern: opa-wasm's native regex.match, which compiles the pattern on every evaluation, and
// regex.find_n, which the proxy provides with compiled patterns kept (policies/re2-cache.ts).
// Target: <= 10 µs median per request over the baseline.
// Run: node_modules/.bin/node bench/access/micro.ts   (needs `make policies` and bin/opa)
// Env: SAMPLES per measurement (default 20,000), ROUNDS (default 3).
import { PolicyEngine } from '../../policies/engine.ts';
import { buildBundle } from '../../test/helpers/policies.ts';
import { compileAccessPolicies } from '../../proxy/access/attach.ts';
import { AccessRequestPolicy } from '../../proxy/access/policy.ts';
import { accessPolicy, point, request, secret } from '../../test/helpers/access.ts';
import type { PolicyVerdict, RequestContext, RequestPolicy } from '../../proxy/request-policy.ts';

const SAMPLES = Number(process.env.SAMPLES ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
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

// One case per built-in rule, plus require-headers with a regular expression (its cost depends on the
// pattern, so it is shown apart, not hidden in an average).
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Two rules that differ only in the regex builtin, built here with bin/opa against the same capabilities.
const REGEX_MODULES = {
  'regex.rego': `package bench.regex
native_ok if regex.match(input.parameters.pattern, input.headers["x-request-id"])
native := {"allow": true, "status": 200, "reason": ""} if native_ok
native := {"allow": false, "status": 403, "reason": "no"} if not native_ok
find_n_ok if count(regex.find_n(input.parameters.pattern, input.headers["x-request-id"], 1)) > 0
find_n := {"allow": true, "status": 200, "reason": ""} if find_n_ok
find_n := {"allow": false, "status": 403, "reason": "no"} if not find_n_ok
`,
  'catalog.rego': `package tenantgate.access
catalog := {
  "bench-regex-match": {"entrypoint": "bench/regex/native", "description": "", "schema": {"type": "object"}},
  "bench-regex-find-n": {"entrypoint": "bench/regex/find_n", "description": "", "schema": {"type": "object"}},
}
`,
};

async function main(): Promise<void> {
  const engine = await PolicyEngine.create();
  const compile = (maxCachedDecisions?: number) =>
    compileAccessPolicies(
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
        ...(maxCachedDecisions !== undefined ? { maxCachedDecisions } : {}),
      },
    );
  const cached = compile();
  const evaluated = compile(0);
  if (cached.index.invalid.size > 0)
    throw new Error(`invalid bench policies: ${JSON.stringify([...cached.index.invalid])}`);

  await engine.setBundle(
    'bench',
    buildBundle(REGEX_MODULES, ['tenantgate/access/catalog', 'bench/regex/native', 'bench/regex/find_n']),
  );
  const pattern = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
  const regexPolicy = (rule: string) =>
    new AccessRequestPolicy({
      name: `bench/${rule}`,
      rule,
      parameters: { pattern },
      route: { kind: 'HTTPRoute', namespace: 'bench', name: 'regex' },
      engine,
    });

  const rows: { label: string; policy: RequestPolicy }[] = [];
  CASES.forEach((c, i) => {
    rows.push({
      label: `${c.label}, evaluated`,
      policy: evaluated.attach(point({ route: `case-${i}` }))[0]!,
    });
    rows.push({ label: `${c.label}, cached`, policy: cached.attach(point({ route: `case-${i}` }))[0]! });
  });
  rows.push({ label: 'regex.match (opa-wasm native)', policy: regexPolicy('bench-regex-match') });
  rows.push({ label: 'regex.find_n (compiled RE2 kept)', policy: regexPolicy('bench-regex-find-n') });

  console.log(
    `AccessPolicy evaluation per request, ${SAMPLES} samples per measurement, ${ROUNDS} interleaved rounds (node ${process.version})`,
  );
  console.log(
    "figures: median µs per request minus the same round's no-op baseline median (p99 in brackets)",
  );
  const net: number[][] = rows.map(() => []);
  for (let round = 1; round <= ROUNDS; round++) {
    const base = sample(noop);
    const baseMedian = pct(base, 0.5);
    console.log(
      `round ${round}: baseline no-op RequestPolicy ${us(baseMedian)} µs median, ${us(pct(base, 0.99))} p99`,
    );
    rows.forEach((row, i) => {
      const times = sample(row.policy);
      net[i]!.push(pct(times, 0.5) - baseMedian);
      console.log(`  ${row.label.padEnd(44)} ${us(pct(times, 0.5) - baseMedian)}  (${us(pct(times, 0.99))})`);
    });
  }
  console.log(`median of ${ROUNDS} rounds, µs per request over the baseline:`);
  rows.forEach((row, i) => {
    const m = median(net[i]!);
    const verdict = m <= TARGET_US * 1000 ? 'meets' : 'MISSES';
    console.log(
      `  ${row.label.padEnd(44)} ${us(m)}   rounds: ${net[i]!.map((n) => us(n).trim()).join(', ')}   ${verdict} the ${TARGET_US} µs target`,
    );
  });
}

await main();
