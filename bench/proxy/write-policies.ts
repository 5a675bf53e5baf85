// Writes the policies of benchmark case (d) next to the routes: an allow-cidrs AccessPolicy and a
// Distinct-header RateLimitPolicy, both on the HTTPRoute under load.
//   node bench/proxy/write-policies.ts DIR ROUTE_NAME
import fs from 'node:fs';
import path from 'node:path';

const [dir, route] = process.argv.slice(2);
if (!dir || !route) {
  process.stderr.write('usage: write-policies.ts DIR ROUTE_NAME\n');
  process.exit(2);
}
const target = { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: route };
const items = [
  {
    apiVersion: 'tenantgate.io/v1alpha1',
    kind: 'AccessPolicy',
    metadata: { name: 'loopback', namespace: 'bench' },
    spec: { targetRefs: [target], rule: 'allow-cidrs', parameters: { cidrs: ['10.0.0.0/8', '127.0.0.0/8'] } },
  },
  {
    apiVersion: 'tenantgate.io/v1alpha1',
    kind: 'RateLimitPolicy',
    metadata: { name: 'per-client', namespace: 'bench' },
    spec: {
      targetRefs: [target],
      limits: [
        {
          name: 'per-client',
          // 100 M an hour per client: never reached here, so every request is counted and allowed
          requests: 100_000_000,
          unit: 'Hour',
          clientSelectors: [{ headers: [{ name: 'X-Client', type: 'Distinct' }] }],
        },
      ],
    },
  },
];
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'policies.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
