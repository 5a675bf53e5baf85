// Writes the attached policy of one benchmark case next to the routes, for `tenantgate proxy --from-files`.
//   node bench/policies/write-policies.ts DIR none|local|access|redis
// Every policy targets the Gateway, so it governs all the routes (each route counting on its own).
//   local, redis: a limit keyed by a Distinct header (X-Client) that the run never reaches
//   access:       allow-cidrs admitting loopback (every request is evaluated, and allowed)
import fs from 'node:fs';
import path from 'node:path';

const [dir, mode] = process.argv.slice(2);
if (!dir || !['none', 'local', 'access', 'redis'].includes(mode ?? '')) {
  process.stderr.write('usage: write-policies.ts DIR none|local|access|redis\n');
  process.exit(2);
}
const target = { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'bench' };
const items: object[] = [];
if (mode === 'local' || mode === 'redis') {
  items.push({
    apiVersion: 'tenantgate.io/v1alpha1',
    kind: 'RateLimitPolicy',
    metadata: { name: 'per-client', namespace: 'bench' },
    spec: {
      targetRefs: [target],
      limits: [
        {
          name: 'per-client',
          // 100 M an hour (about 28k/s per client and route): far above what one wrk client reaches here
          requests: 100_000_000,
          unit: 'Hour',
          clientSelectors: [{ headers: [{ name: 'X-Client', type: 'Distinct' }] }],
        },
      ],
    },
  });
}
if (mode === 'access') {
  items.push({
    apiVersion: 'tenantgate.io/v1alpha1',
    kind: 'AccessPolicy',
    metadata: { name: 'loopback', namespace: 'bench' },
    spec: { targetRefs: [target], rule: 'allow-cidrs', parameters: { cidrs: ['10.0.0.0/8', '127.0.0.0/8'] } },
  });
}
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'policies.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
