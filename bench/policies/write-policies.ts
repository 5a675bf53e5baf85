// Writes the attached policies of one benchmark case next to the routes, for `tenantgate proxy --from-files`.
//   node bench/policies/write-policies.ts DIR none|local|access|redis|access+local [HTTPROUTE]
// The policies target the Gateway (governing every route, each counting on its own), or, given a route
// name, that one HTTPRoute (bench/proxy's case (d): the route under load).
//   local, redis:  a limit keyed by a Distinct header (X-Client) that the run never reaches
//   access:        allow-cidrs admitting loopback (every request is evaluated, and allowed)
//   access+local:  both
import fs from 'node:fs';
import path from 'node:path';

const MODES = ['none', 'local', 'access', 'redis', 'access+local'];
const [dir, mode = '', route] = process.argv.slice(2);
if (!dir || !MODES.includes(mode)) {
  process.stderr.write(`usage: write-policies.ts DIR ${MODES.join('|')} [HTTPROUTE]\n`);
  process.exit(2);
}
const target = route
  ? { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: route }
  : { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'bench' };
const items: object[] = [];
if (mode === 'access' || mode === 'access+local') {
  items.push({
    apiVersion: 'tenantgate.io/v1alpha1',
    kind: 'AccessPolicy',
    metadata: { name: 'loopback', namespace: 'bench' },
    spec: { targetRefs: [target], rule: 'allow-cidrs', parameters: { cidrs: ['10.0.0.0/8', '127.0.0.0/8'] } },
  });
}
if (mode === 'local' || mode === 'redis' || mode === 'access+local') {
  items.push({
    apiVersion: 'tenantgate.io/v1alpha1',
    kind: 'RateLimitPolicy',
    metadata: { name: 'per-client', namespace: 'bench' },
    spec: {
      targetRefs: [target],
      limits: [
        {
          name: 'per-client',
          // 100 M an hour (about 28k/s per client and route): far above what one wrk client reaches here,
          // so every request is counted and allowed
          requests: 100_000_000,
          unit: 'Hour',
          clientSelectors: [{ headers: [{ name: 'X-Client', type: 'Distinct' }] }],
        },
      ],
    },
  });
}
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'policies.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
