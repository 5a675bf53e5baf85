import { describe, expect, it } from 'vitest';
import { DuplicateIndexError, IndexedStore, UnknownIndexError } from './indexed-store.ts';
import type { KubeObject } from './types.ts';

const obj = (name: string, tenants: string[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels: Object.fromEntries(tenants.map((t) => [`tenant/${t}`, ''])) },
});
const tenantsOf = (o: KubeObject) =>
  Object.keys(o.metadata?.labels ?? {}).map((l) => l.slice('tenant/'.length));

function store() {
  const s = new IndexedStore<KubeObject>('v1/Namespace');
  s.addIndex('tenant', tenantsOf);
  return s;
}

describe('IndexedStore', () => {
  it('refuses a second index of the same name with a coded error naming cache and index', () => {
    const s = store();
    let thrown: unknown;
    try {
      s.addIndex('tenant', () => []);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(DuplicateIndexError);
    expect(thrown).toMatchObject({ code: 'TG_INFORMER_DUPLICATE_INDEX' });
    expect((thrown as Error).message).toContain("v1/Namespace cache already has an index named 'tenant'");
    // the first index is untouched
    s.set('a', obj('a', ['acme']));
    expect([...s.keysByIndex('tenant', 'acme')]).toEqual(['a']);
  });

  it('moves an object between index values when it is updated', () => {
    const s = store();
    s.set('a', obj('a', ['acme', 'beta']));
    s.set('b', obj('b', ['acme']));
    expect([...s.keysByIndex('tenant', 'acme')].sort()).toEqual(['a', 'b']);
    const old = s.set('a', obj('a', ['gamma']));
    expect(tenantsOf(old!)).toEqual(['acme', 'beta']);
    expect([...s.keysByIndex('tenant', 'acme')]).toEqual(['b']);
    expect([...s.keysByIndex('tenant', 'beta')]).toEqual([]);
    expect([...s.keysByIndex('tenant', 'gamma')]).toEqual(['a']);
  });

  it('drops a deleted object from every index', () => {
    const s = store();
    s.set('a', obj('a', ['acme']));
    expect(s.delete('a')?.metadata?.name).toBe('a');
    expect(s.delete('a')).toBeUndefined();
    expect([...s.keysByIndex('tenant', 'acme')]).toEqual([]);
    expect(s.size).toBe(0);
  });

  it('builds an index added late over what is already cached', () => {
    const s = new IndexedStore<KubeObject>('v1/Namespace');
    s.set('a', obj('a', ['acme']));
    s.addIndex('tenant', tenantsOf);
    expect([...s.keysByIndex('tenant', 'acme')]).toEqual(['a']);
    expect(s.matchesIndex('tenant', obj('x', ['acme']), 'acme')).toBe(true);
  });

  it('names the missing index when asked for one that was never added', () => {
    expect(() => store().keysByIndex('owner', 'x')).toThrow(UnknownIndexError);
    expect(() => store().keysByIndex('owner', 'x')).toThrow("no index named 'owner'");
  });
});
