import { describe, expect, it } from 'vitest';
import { groupVersionPath, KINDS, knownResource, resourcePath, ResourceResolver } from './resources.ts';

describe('resource paths', () => {
  it('builds core and group paths, namespaced and cluster-scoped', () => {
    expect(groupVersionPath('v1')).toBe('/api/v1');
    expect(resourcePath(KINDS.Namespace, { name: 'a', namespace: 'ignored' })).toBe('/api/v1/namespaces/a');
    expect(resourcePath(KINDS.RoleBinding, { namespace: 'ns', name: 'tenantgate:x' })).toBe(
      '/apis/rbac.authorization.k8s.io/v1/namespaces/ns/rolebindings/tenantgate%3Ax',
    );
    expect(resourcePath(KINDS.Tenant, { name: 'acme', subresource: 'status' })).toBe(
      '/apis/tenantgate.io/v1alpha1/tenants/acme/status',
    );
    expect(resourcePath(KINDS.HTTPRoute)).toBe('/apis/gateway.networking.k8s.io/v1/httproutes');
  });

  it('knows the catalogued kinds by apiVersion and kind', () => {
    expect(
      knownResource({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'ReferenceGrant' })?.plural,
    ).toBe('referencegrants');
    expect(
      knownResource({ apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant' }),
    ).toBeUndefined();
  });
});

describe('ResourceResolver', () => {
  it('uses discovery for other kinds, caches it, and looks again for a kind it did not find', async () => {
    const calls: string[] = [];
    let resources = [{ name: 'widgets/status', kind: 'Widget', namespaced: true }];
    const resolver = new ResourceResolver(async (path) => {
      calls.push(path);
      return { resources };
    });
    await expect(resolver.resolve({ apiVersion: 'example.com/v1', kind: 'Widget' })).rejects.toThrow(
      /does not serve Widget in example.com\/v1/,
    );
    resources = [...resources, { name: 'widgets', kind: 'Widget', namespaced: true }];
    expect(await resolver.resolve({ apiVersion: 'example.com/v1', kind: 'Widget' })).toEqual({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      plural: 'widgets',
      namespaced: true,
    });
    await resolver.resolve({ apiVersion: 'example.com/v1', kind: 'Widget' });
    expect(calls).toEqual(['/apis/example.com/v1', '/apis/example.com/v1', '/apis/example.com/v1']);
    await resolver.resolve(KINDS.Namespace);
    expect(calls).toHaveLength(3);
  });

  it('retries discovery after it failed', async () => {
    let fail = true;
    const resolver = new ResourceResolver(async () => {
      if (fail) throw new Error('connection refused');
      return { resources: [{ name: 'gizmos', kind: 'Gizmo', namespaced: false }] };
    });
    await expect(resolver.resolve({ apiVersion: 'x.io/v1', kind: 'Gizmo' })).rejects.toThrow(
      /connection refused/,
    );
    fail = false;
    expect((await resolver.resolve({ apiVersion: 'x.io/v1', kind: 'Gizmo' })).plural).toBe('gizmos');
  });
});
