import { describe, expect, it } from 'vitest';
import type { Tenant } from '../api/index.ts';
import { buildInventory } from './inventory.ts';
import { regoFixture } from '../test/helpers/policies.ts';

const fixture = regoFixture('data.tenantgate.testdata.inventory') as Record<string, unknown> & {
  tenants: Record<string, { spec: Tenant['spec'] }>;
};

function tenant(name: string, uid: string, created: string): Tenant {
  return {
    apiVersion: 'tenantgate.io/v1alpha1',
    kind: 'Tenant',
    metadata: { name, uid, creationTimestamp: created },
    spec: fixture.tenants[name]!.spec,
  };
}

function namespace(name: string, labels: Record<string, string>, ownerUid?: string) {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name,
      labels,
      ownerReferences: ownerUid
        ? [{ apiVersion: 'tenantgate.io/v1alpha1', kind: 'Tenant', name: 'x', uid: ownerUid }]
        : [],
    },
  };
}

function route(kind: string, namespace: string, name: string, hostnames: string[]) {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind,
    metadata: { namespace, name },
    spec: { hostnames },
  };
}

const objects = {
  tenants: [
    tenant('globex', 'uid-globex', '2026-01-02T00:00:00Z'),
    tenant('acme', 'uid-acme', '2026-01-01T00:00:00Z'),
  ],
  namespaces: [
    namespace(
      'acme-web',
      { 'tenantgate.io/tenant': 'acme', team: 'web', 'gateway-access': 'shared' },
      'uid-acme',
    ),
    namespace('acme-api', { 'tenantgate.io/tenant': 'acme', 'gateway-access': 'shared' }, 'uid-acme'),
    namespace('globex-web', { 'tenantgate.io/tenant': 'globex' }, 'uid-globex'),
    namespace('default', {}),
    namespace('infra', {}),
  ],
  routes: [
    route('HTTPRoute', 'globex-web', 'shop', ['shop.globex.example.com']),
    route('HTTPRoute', 'globex-web', 'legacy', ['Legacy.acme.example.com']),
    route('HTTPRoute', 'acme-web', 'www', ['www.acme.example.com']),
    route('GRPCRoute', 'acme-api', 'grpc', []),
    route('HTTPRoute', 'infra', 'platform', ['status.example.com']), // not a tenant's: not counted
  ],
  gateways: [
    {
      metadata: { namespace: 'infra', name: 'shared' },
      spec: {
        listeners: [
          {
            allowedRoutes: {
              namespaces: { from: 'Selector', selector: { matchLabels: { 'gateway-access': 'shared' } } },
            },
          },
          { allowedRoutes: { namespaces: { from: 'All' } } },
        ],
      },
    },
    // not given to any tenant: its selector labels are not the platform's concern
    {
      metadata: { namespace: 'infra', name: 'other' },
      spec: {
        listeners: [
          { allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { x: 'y' } } } } },
        ],
      },
    },
  ],
};

describe('buildInventory', () => {
  it('builds the same document the Rego tests use as their fixture', () => {
    expect(buildInventory(objects)).toEqual(fixture);
  });

  it('gives a namespace listed by two tenants to the older one', () => {
    const newer: Tenant = {
      apiVersion: 'tenantgate.io/v1alpha1',
      kind: 'Tenant',
      metadata: { name: 'initech', uid: 'uid-i', creationTimestamp: '2026-02-01T00:00:00Z' },
      spec: { namespaces: [{ name: 'acme-web' }] },
    };
    const inv = buildInventory({ ...objects, tenants: [newer, ...objects.tenants] });
    expect(inv.namespace_tenants['acme-web']).toBe('acme');
  });

  it('leaves out routes that are being deleted', () => {
    const deleting = {
      ...route('HTTPRoute', 'acme-web', 'old', ['old.acme.example.com']),
      metadata: { namespace: 'acme-web', name: 'old', deletionTimestamp: '2026-01-01T00:00:00Z' },
    };
    const inv = buildInventory({ ...objects, routes: [...objects.routes, deleting] });
    expect(inv.hostname_claims['old.acme.example.com']).toBeUndefined();
    expect(inv.route_counts.acme).toBe(2);
  });

  it('says which Tenant a platform admin handed a namespace to', () => {
    const handed = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'legacy', annotations: { 'tenantgate.io/adopt-by': 'acme' } },
    };
    const inv = buildInventory({ ...objects, namespaces: [...objects.namespaces, handed] });
    expect(inv.namespaces.legacy).toEqual({ labels: {}, tenant_owner_uids: [], adopt_by: 'acme' });
    expect(inv.namespaces['acme-web']).not.toHaveProperty('adopt_by');
  });
});
