import { describe, expect, it } from 'vitest';
import type { Tenant } from '../api/tenant.ts';
import { TENANT_LABEL } from './labels.ts';
import {
  desiredChildren,
  desiredReferenceGrants,
  desiredTenant,
  gatewaySelectorLabels,
} from './tenant-desired.ts';
import type { Gateway } from './types.ts';

const tenant = (spec: Partial<Tenant['spec']> = {}): Tenant => ({
  apiVersion: 'tenantgate.io/v1alpha1',
  kind: 'Tenant',
  metadata: { name: 'acme', uid: 'uid-1' },
  spec: { namespaces: [{ name: 'acme-web' }, { name: 'acme-api' }], ...spec },
});

const gateway = (spec: Omit<Gateway['spec'], 'gatewayClassName'>): Gateway => ({
  metadata: { name: 'shared', namespace: 'infra' },
  spec: { gatewayClassName: 'tenantgate', ...spec },
});
const selectorListener = (name: string, selector: object) => ({
  name,
  port: 80,
  protocol: 'HTTP',
  allowedRoutes: { namespaces: { from: 'Selector' as const, selector } },
});

describe('desiredTenant', () => {
  it('labels namespaces: own labels < Gateway selector labels < the tenant label, and owns them', () => {
    const t = tenant({
      namespaces: [
        {
          name: 'acme-web',
          labels: { team: 'web', access: 'mine', [TENANT_LABEL]: 'forged', 'tenantgate.io/other': 'x' },
        },
      ],
      gateways: [{ name: 'shared', namespace: 'infra' }],
    });
    const gw = gateway({ listeners: [selectorListener('http', { matchLabels: { access: 'shared' } })] });
    const d = desiredTenant(t, () => gw);
    expect(d.namespaces.get('acme-web')?.metadata).toEqual({
      name: 'acme-web',
      labels: { team: 'web', access: 'shared', [TENANT_LABEL]: 'acme' },
      ownerReferences: [
        {
          apiVersion: 'tenantgate.io/v1alpha1',
          kind: 'Tenant',
          name: 'acme',
          uid: 'uid-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(d.gatewayProblems).toEqual([]);
  });

  it('binds owners (deduplicated) and groups additionalRoleBindings by ClusterRole', () => {
    const t = tenant({
      owners: [
        { kind: 'User', name: 'alice' },
        { kind: 'User', name: 'alice' },
        { kind: 'ServiceAccount', name: 'ci', namespace: 'acme-web' },
      ],
      additionalRoleBindings: [
        { clusterRoleName: 'view', subjects: [{ kind: 'Group', name: 'auditors' }] },
        { clusterRoleName: 'view', subjects: [{ kind: 'User', name: 'bob' }] },
      ],
    });
    const [owner, view, grant] = desiredChildren(t, ['acme-web', 'acme-api']).get('acme-web')!;
    expect(owner).toMatchObject({
      kind: 'RoleBinding',
      metadata: {
        name: 'tenantgate:tenant-owner',
        namespace: 'acme-web',
        labels: { [TENANT_LABEL]: 'acme' },
      },
      roleRef: {
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: 'tenantgate:tenant-owner',
      },
      subjects: [
        { kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' },
        { kind: 'ServiceAccount', name: 'ci', namespace: 'acme-web' },
      ],
    });
    expect(view).toMatchObject({
      metadata: { name: 'tenantgate:additional:view' },
      roleRef: { name: 'view' },
    });
    expect((view as { subjects: unknown[] }).subjects).toHaveLength(2);
    expect(grant?.kind).toBe('ReferenceGrant');
  });

  it('makes no owner RoleBinding without owners, and no ReferenceGrant for a single namespace', () => {
    expect(desiredChildren(tenant(), ['acme-web']).get('acme-web')).toEqual([]);
  });
});

describe('desiredReferenceGrants', () => {
  it('lets routes from every other tenant namespace reach Services here, and nothing else', () => {
    const [grant, ...rest] = desiredReferenceGrants(tenant(), 'acme-api', [
      'acme-web',
      'acme-api',
      'acme-db',
    ]);
    expect(rest).toEqual([]);
    expect(grant?.metadata.name).toBe('tenantgate-routes');
    expect(grant?.spec).toEqual({
      from: [
        { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'acme-db' },
        { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute', namespace: 'acme-db' },
        { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'acme-web' },
        { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute', namespace: 'acme-web' },
      ],
      to: [{ group: '', kind: 'Service' }],
    });
  });

  it('splits into grants of at most 16 entries (the CRD limit)', () => {
    const names = Array.from({ length: 20 }, (_, i) => `ns-${String(i).padStart(2, '0')}`);
    const grants = desiredReferenceGrants(tenant(), 'ns-00', names);
    expect(grants.map((g) => [g.metadata.name, g.spec.from.length])).toEqual([
      ['tenantgate-routes', 16],
      ['tenantgate-routes-2', 16],
      ['tenantgate-routes-3', 6],
    ]);
  });
});

describe('gatewaySelectorLabels', () => {
  it('takes matchLabels, In (first value) and Exists from the listeners named in sectionNames', () => {
    const gw = gateway({
      listeners: [
        selectorListener('http', {
          matchLabels: { a: '1' },
          matchExpressions: [
            { key: 'b', operator: 'In', values: ['x', 'y'] },
            { key: 'c', operator: 'Exists' },
          ],
        }),
        selectorListener('admin', { matchLabels: { admin: 'yes' } }),
        { name: 'open', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } },
      ],
    });
    const t = tenant({ gateways: [{ name: 'shared', namespace: 'infra', sectionNames: ['http', 'open'] }] });
    expect(gatewaySelectorLabels(t, () => gw)).toEqual({
      labels: { a: '1', b: 'x', c: 'true' },
      problems: [],
    });
  });

  it('reports missing Gateways and listeners, and selectors no label can satisfy', () => {
    const gw = gateway({
      listeners: [selectorListener('http', { matchLabels: { [TENANT_LABEL]: 'someone-else' } })],
    });
    const t = tenant({
      gateways: [
        { name: 'shared', namespace: 'infra', sectionNames: ['http', 'https'] },
        { name: 'gone', namespace: 'infra' },
      ],
    });
    expect(gatewaySelectorLabels(t, (_ns, name) => (name === 'shared' ? gw : undefined)).problems).toEqual([
      'Gateway infra/shared has no listener https',
      `Gateway infra/shared selects ${TENANT_LABEL}=someone-else, which this tenant cannot carry`,
      'Gateway infra/gone not found',
    ]);
  });
});
