import { describe, expect, it } from 'vitest';
import { contains, needsApply, ownedMetadata } from './apply.ts';
import type { KubeObject, ManagedFieldsEntry } from './types.ts';

const applied = (
  fields: Record<string, unknown>,
  manager = 'tenantgate',
  operation: 'Apply' | 'Update' = 'Apply',
): ManagedFieldsEntry => ({
  manager,
  operation,
  fieldsType: 'FieldsV1',
  fieldsV1: { 'f:metadata': fields },
});

describe('contains', () => {
  it('is a deep subset for objects and exact for arrays', () => {
    expect(contains({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } })).toBe(true);
    expect(contains({ a: 1 }, { a: 2 })).toBe(false);
    expect(contains([{ a: 1, x: 0 }, { b: 2 }], [{ a: 1 }, { b: 2 }])).toBe(true);
    expect(contains([{ a: 1 }, { b: 2 }], [{ a: 1 }])).toBe(false);
    expect(contains(undefined, [])).toBe(false);
    expect(contains({ a: '' }, { a: '' })).toBe(true);
  });
});

describe('needsApply', () => {
  const want: KubeObject & Record<string, unknown> = {
    apiVersion: 'v1',
    kind: 'Thing',
    metadata: {
      name: 'a',
      labels: { x: '1' },
      ownerReferences: [{ apiVersion: 'v', kind: 'Tenant', name: 't', uid: 'u1' }],
    },
    spec: { list: [1, 2] },
  };
  const actual = (
    extra: Partial<KubeObject['metadata']> = {},
    spec: unknown = { list: [1, 2], defaulted: true },
  ) => ({
    apiVersion: 'v1',
    kind: 'Thing',
    metadata: {
      name: 'a',
      labels: { x: '1', other: 'y' },
      ownerReferences: [
        { apiVersion: 'v', kind: 'Other', name: 'o', uid: 'u0' },
        { apiVersion: 'v', kind: 'Tenant', name: 't', uid: 'u1' },
      ],
      managedFields: [applied({ 'f:labels': { 'f:x': {} }, 'f:ownerReferences': { 'k:{"uid":"u1"}': {} } })],
      ...extra,
    },
    spec,
  });

  it('is false when everything desired is there, whatever else the object has', () => {
    expect(needsApply(want, actual())).toBe(false);
  });

  it('is true when something desired is missing or different', () => {
    expect(needsApply(want, undefined)).toBe(true);
    expect(needsApply(want, actual({ labels: { x: '2' } }))).toBe(true);
    expect(needsApply(want, actual({ ownerReferences: [] }))).toBe(true);
    expect(needsApply(want, actual({}, { list: [1] }))).toBe(true);
  });

  it('is true when the manager applied a label or owner reference that is no longer desired', () => {
    const stale = actual({ managedFields: [applied({ 'f:labels': { 'f:x': {}, 'f:gone': {} } })] });
    expect(needsApply(want, stale)).toBe(true);
    const staleRef = actual({ managedFields: [applied({ 'f:ownerReferences': { 'k:{"uid":"u9"}': {} } })] });
    expect(needsApply(want, staleRef)).toBe(true);
  });

  it('ignores fields set by other managers, or by its own create/update (apply would not remove those)', () => {
    expect(
      needsApply(want, actual({ managedFields: [applied({ 'f:labels': { 'f:other': {} } }, 'kubectl')] })),
    ).toBe(false);
    expect(
      needsApply(
        want,
        actual({ managedFields: [applied({ 'f:labels': { 'f:other': {} } }, 'tenantgate', 'Update')] }),
      ),
    ).toBe(false);
  });
});

describe('ownedMetadata', () => {
  it('reads labels, annotations, finalizers and owner UIDs from managedFields', () => {
    const owned = ownedMetadata([
      applied({
        'f:labels': { '.': {}, 'f:a': {} },
        'f:annotations': { 'f:b': {} },
        'f:finalizers': { 'v:"x.io/f"': {} },
        'f:ownerReferences': { 'k:{"uid":"u"}': {} },
      }),
      applied({ 'f:labels': { 'f:c': {} } }, 'tenantgate', 'Update'),
      applied({ 'f:labels': { 'f:d': {} } }, 'kubectl'),
      { ...applied({ 'f:labels': { 'f:e': {} } }), subresource: 'status' },
    ]);
    expect([...owned.labels]).toEqual(['a', 'c']);
    expect([...owned.annotations]).toEqual(['b']);
    expect([...owned.finalizers]).toEqual(['x.io/f']);
    expect([...owned.ownerUids]).toEqual(['u']);
  });
});
