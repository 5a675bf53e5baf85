import { describe, expect, it } from 'vitest';
import type { Tenant } from '../api/tenant.ts';
import { ADOPT_ANNOTATION, TENANT_LABEL } from './labels.ts';
import { adoptableBy, describeForeignNamespace, isOwnedBy, tenantNamesOf } from './ownership.ts';
import { adoptionPatch, namespacePatch } from './tenant-namespaces.ts';

const tenant: Tenant = {
  apiVersion: 'tenantgate.io/v1alpha1',
  kind: 'Tenant',
  metadata: { name: 'acme', uid: 'u-acme' },
  spec: { namespaces: [{ name: 'web' }] },
};
const ref = (name: string, uid: string) => ({
  apiVersion: 'tenantgate.io/v1alpha1',
  kind: 'Tenant',
  name,
  uid,
});

describe('ownership', () => {
  it('is proven by an owner reference to the UID, never by a label', () => {
    expect(isOwnedBy({ metadata: { ownerReferences: [ref('acme', 'u-acme')] } }, 'u-acme')).toBe(true);
    expect(isOwnedBy({ metadata: { labels: { [TENANT_LABEL]: 'acme' } } }, 'u-acme')).toBe(false);
    expect(isOwnedBy({ metadata: { ownerReferences: [ref('acme', 'u-old')] } }, 'u-acme')).toBe(false);
  });

  it('maps objects to the Tenants to reconcile, by owner reference and label', () => {
    expect(
      tenantNamesOf({
        metadata: {
          labels: { [TENANT_LABEL]: 'b' },
          ownerReferences: [ref('a', 'x'), { ...ref('c', 'y'), kind: 'Other' }],
        },
      }),
    ).toEqual(['a', 'b']);
  });

  it('names the owner of a namespace it will not take over', () => {
    expect(
      describeForeignNamespace({ metadata: { name: 'web', ownerReferences: [ref('other', 'u-o')] } }, tenant),
    ).toBe(
      'namespace web already exists and belongs to Tenant other; tenantgate never takes a namespace over',
    );
    expect(
      describeForeignNamespace(
        { metadata: { name: 'web', ownerReferences: [ref('acme', 'u-old')] } },
        tenant,
      ),
    ).toContain('belongs to an earlier Tenant named acme (uid u-old)');
    expect(
      describeForeignNamespace({ metadata: { name: 'web', labels: { [TENANT_LABEL]: 'acme' } } }, tenant),
    ).toContain('ownership is not proven');
    expect(
      describeForeignNamespace(
        { metadata: { name: 'web', ownerReferences: [{ ...ref('x', 'y'), kind: 'Deployment' }] } },
        tenant,
      ),
    ).toContain('is owned by Deployment x');
    expect(describeForeignNamespace({ metadata: { name: 'web' } }, tenant)).toContain(
      'was not created by a Tenant',
    );
  });
});

describe('namespacePatch', () => {
  const want = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'web',
      labels: { [TENANT_LABEL]: 'acme', team: 'a' },
      ownerReferences: [{ ...ref('acme', 'u-acme'), controller: true }],
    },
  };
  const managed = (labels: string[]) => [
    {
      manager: 'tenantgate',
      operation: 'Update' as const,
      fieldsV1: { 'f:metadata': { 'f:labels': Object.fromEntries(labels.map((l) => [`f:${l}`, {}])) } },
    },
  ];

  it('is undefined when the namespace is as wanted', () => {
    const actual = {
      metadata: {
        name: 'web',
        resourceVersion: '7',
        labels: { ...want.metadata.labels, 'kubernetes.io/metadata.name': 'web', mine: 'x' },
        ownerReferences: want.metadata.ownerReferences,
        managedFields: managed([TENANT_LABEL, 'team', 'kubernetes.io/metadata.name']),
      },
    };
    expect(namespacePatch(want, actual, 'u-acme')).toBeUndefined();
  });

  it('restores changed labels, drops labels it set and no longer wants, keeps other owners, guarded by resourceVersion', () => {
    const other = { apiVersion: 'apps/v1', kind: 'Thing', name: 't', uid: 'u-t' };
    const actual = {
      metadata: {
        name: 'web',
        resourceVersion: '9',
        labels: { [TENANT_LABEL]: 'evil', team: 'a', old: 'y', theirs: 'z' },
        ownerReferences: [other],
        managedFields: managed([TENANT_LABEL, 'team', 'old']),
      },
    };
    expect(namespacePatch(want, actual, 'u-acme')).toEqual({
      metadata: {
        resourceVersion: '9',
        labels: { [TENANT_LABEL]: 'acme', old: null },
        ownerReferences: [other, want.metadata.ownerReferences[0]],
      },
    });
  });

  it('adopts only a namespace handed to this Tenant by name that no Tenant owns and that is not terminating', () => {
    const handed = (extra: object = {}) => ({
      metadata: { name: 'web', annotations: { [ADOPT_ANNOTATION]: 'acme' }, ...extra },
    });
    expect(adoptableBy(handed(), tenant)).toBe(true);
    expect(adoptableBy({ metadata: { name: 'web' } }, tenant)).toBe(false);
    expect(adoptableBy({ metadata: { annotations: { [ADOPT_ANNOTATION]: 'globex' } } }, tenant)).toBe(false);
    // another Tenant's, or an earlier Tenant's of the same name (the garbage collector's to delete)
    expect(adoptableBy(handed({ ownerReferences: [ref('other', 'u-other')] }), tenant)).toBe(false);
    expect(adoptableBy(handed({ ownerReferences: [ref('acme', 'u-old')] }), tenant)).toBe(false);
    expect(adoptableBy(handed({ deletionTimestamp: '2026-01-01T00:00:00Z' }), tenant)).toBe(false);
    expect(describeForeignNamespace({ metadata: { name: 'web' } }, tenant)).toContain(
      `a platform admin annotates it ${ADOPT_ANNOTATION}=acme`,
    );
  });

  it('adoption adds the labels and owner reference, removes the annotation, keeps the rest', () => {
    const ours = { ...ref('acme', 'u-acme'), controller: true, blockOwnerDeletion: true };
    const want = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'web', labels: { [TENANT_LABEL]: 'acme', team: 'a' }, ownerReferences: [ours] },
    };
    const foreign = { apiVersion: 'apps/v1', kind: 'Thing', name: 't', uid: 'u-t' };
    const actual = {
      metadata: {
        name: 'web',
        resourceVersion: '4',
        labels: { team: 'a', app: 'legacy' },
        annotations: { [ADOPT_ANNOTATION]: 'acme', note: 'kept' },
        ownerReferences: [foreign],
      },
    };
    expect(adoptionPatch(want, actual, 'u-acme')).toEqual({
      metadata: {
        resourceVersion: '4',
        labels: { [TENANT_LABEL]: 'acme' },
        annotations: { [ADOPT_ANNOTATION]: null },
        ownerReferences: [foreign, ours],
      },
    });
  });
});
