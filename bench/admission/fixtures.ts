// Synthetic cluster state for the admission benchmark: N tenants, each with two namespaces, two
// hostnames and a few routes, and a mix of AdmissionReviews against them.
import type { Tenant } from '../../api/index.ts';
import { buildInventory } from '../../policies/inventory.ts';
import type { Inventory } from '../../policies/types.ts';

export function benchInventory(tenants: number): Inventory {
  const ts: Tenant[] = [];
  const namespaces = [];
  const routes = [];
  for (let i = 0; i < tenants; i++) {
    const name = `t${i}`;
    ts.push({
      apiVersion: 'tenantgate.io/v1alpha1',
      kind: 'Tenant',
      metadata: {
        name,
        uid: `uid-${i}`,
        creationTimestamp: new Date(1_700_000_000_000 + i * 1000).toISOString(),
      },
      spec: {
        owners: [
          { kind: 'Group', name: `${name}-devs` },
          { kind: 'User', name: `${name}-lead` },
        ],
        namespaces: [{ name: `${name}-web` }, { name: `${name}-api` }],
        gateways: [{ name: 'shared', namespace: 'infra', sectionNames: ['http', 'https'] }],
        hostnames: [`${name}.example.com`, `*.${name}.example.com`],
        limits: { maxRoutes: 50, rateLimit: { requests: 1000, unit: 'Second' } },
      },
    });
    for (const ns of [`${name}-web`, `${name}-api`]) {
      namespaces.push({
        metadata: {
          name: ns,
          labels: { 'tenantgate.io/tenant': name },
          ownerReferences: [{ apiVersion: 'tenantgate.io/v1alpha1', kind: 'Tenant', uid: `uid-${i}` }],
        },
      });
    }
    for (let r = 0; r < 4; r++) {
      routes.push({
        kind: 'HTTPRoute',
        metadata: { name: `r${r}`, namespace: `${name}-web` },
        spec: { hostnames: [`app${r}.${name}.example.com`] },
      });
    }
  }
  return buildInventory({ tenants: ts, namespaces, routes, gateways: [] });
}

/** A mix of reviews: mostly valid routes of random tenants, some violations, some policies. */
export function benchReviews(tenants: number, count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const t = `t${(i * 7919) % tenants}`;
    const kind = i % 10;
    let request;
    if (kind < 7) request = routeCreate(i, t, [`shop${i}.${t}.example.com`], `${t}-api`);
    else if (kind < 9)
      request = routeCreate(i, t, [`shop.t${(i + 1) % tenants}.example.com`], `t${(i + 1) % tenants}-api`);
    else request = rateLimitPolicy(i, t);
    out.push(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request }));
  }
  return out;
}

function routeCreate(i: number, tenant: string, hostnames: string[], backendNs: string) {
  const namespace = `${tenant}-web`;
  return {
    uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    kind: { group: 'gateway.networking.k8s.io', version: 'v1', kind: 'HTTPRoute' },
    resource: { group: 'gateway.networking.k8s.io', version: 'v1', resource: 'httproutes' },
    operation: 'CREATE',
    namespace,
    name: `route-${i}`,
    userInfo: { username: `${tenant}-lead`, groups: [`${tenant}-devs`, 'system:authenticated'] },
    object: {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: `route-${i}`, namespace, labels: { app: 'shop' }, annotations: { owner: 'team' } },
      spec: {
        parentRefs: [{ name: 'shared', namespace: 'infra', sectionName: 'http' }],
        hostnames,
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/api' } }],
            backendRefs: [
              { name: 'api', namespace: backendNs, port: 8080, weight: 90 },
              { name: 'api-canary', port: 8080, weight: 10 },
            ],
          },
          {
            matches: [{ path: { type: 'PathPrefix', value: '/' } }],
            backendRefs: [{ name: 'web', port: 80 }],
          },
        ],
      },
    },
    oldObject: null,
    dryRun: false,
  };
}

function rateLimitPolicy(i: number, tenant: string) {
  const namespace = `${tenant}-api`;
  return {
    uid: `00000000-0000-4000-9000-${String(i).padStart(12, '0')}`,
    kind: { group: 'tenantgate.io', version: 'v1alpha1', kind: 'RateLimitPolicy' },
    operation: 'CREATE',
    namespace,
    name: `rl-${i}`,
    userInfo: { username: `${tenant}-lead`, groups: ['system:authenticated'] },
    object: {
      apiVersion: 'tenantgate.io/v1alpha1',
      kind: 'RateLimitPolicy',
      metadata: { name: `rl-${i}`, namespace },
      spec: {
        targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'api' }],
        limits: [
          {
            name: 'per-key',
            requests: 100,
            unit: 'Minute',
            clientSelectors: [{ headers: [{ name: 'X-API-Key', type: 'Distinct' }] }],
          },
        ],
      },
    },
    oldObject: null,
  };
}
