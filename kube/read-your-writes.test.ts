import { afterEach, describe, expect, it, vi } from 'vitest';
import { isNewer, ReadYourWritesOverlay } from './read-your-writes.ts';
import type { KubeObject } from './types.ts';

const cm = (name: string, resourceVersion: string, uid = 'u1'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', resourceVersion, uid },
});

afterEach(() => void vi.useRealTimers());

describe('isNewer', () => {
  it('compares decimal resource versions numerically, without parsing into a number', () => {
    expect(isNewer('10', '9')).toBe(true);
    expect(isNewer('9', '10')).toBe(false);
    expect(isNewer('123456789012345678901', '123456789012345678900')).toBe(true);
    expect(isNewer('5', '5')).toBe(false);
    expect(isNewer('5', '')).toBe(true);
    expect(isNewer(undefined, '5')).toBe(false);
  });

  it('treats opaque versions as newer unless they are equal', () => {
    expect(isNewer('abc', 'abd')).toBe(true);
    expect(isNewer('abc', 'abc')).toBe(false);
  });
});

describe('ReadYourWritesOverlay', () => {
  it('shows our write until the watch delivers that version, then the cache again', () => {
    const o = new ReadYourWritesOverlay<KubeObject>();
    const cached = cm('a', '5');
    o.noteWrite('ns/a', cm('a', '7'), '6');
    expect(o.read('ns/a', cached)?.metadata?.resourceVersion).toBe('7');
    o.settle('ns/a', cm('a', '6'), false); // an older event: still behind our write
    expect(o.read('ns/a', cached)?.metadata?.resourceVersion).toBe('7');
    o.settle('ns/a', cm('a', '7'), false);
    expect(o.read('ns/a', cached)).toBe(cached);
  });

  it('ignores a write the cache has already seen', () => {
    const o = new ReadYourWritesOverlay<KubeObject>();
    o.noteWrite('ns/a', cm('a', '7'), '9');
    expect(o.read('ns/a', undefined)).toBeUndefined();
  });

  it('hides what we deleted until the watch says so, and lists what the cache has not seen', () => {
    const o = new ReadYourWritesOverlay<KubeObject>();
    o.noteDelete('ns/a', cm('a', '5'));
    o.noteWrite('ns/b', cm('b', '8'), '7');
    expect(o.read('ns/a', cm('a', '5'))).toBeUndefined();
    expect(
      o
        .notYetCached(
          () => false,
          () => true,
        )
        .map((x) => x.metadata?.name),
    ).toEqual(['b']);
    expect(
      o.notYetCached(
        (key) => key === 'ns/b',
        () => true,
      ),
    ).toEqual([]);
    o.settle('ns/a', cm('a', '5'), true);
    expect(o.read('ns/a', cm('a', '5'))?.metadata?.name).toBe('a');
  });

  it('lets an entry expire after its TTL, so a lost event cannot hide the cache for long', () => {
    vi.useFakeTimers();
    const o = new ReadYourWritesOverlay<KubeObject>(1_000);
    const cached = cm('a', '5');
    o.noteWrite('ns/a', cm('a', '7'), '6');
    vi.advanceTimersByTime(1_001);
    expect(o.read('ns/a', cached)).toBe(cached);
  });

  it('forgets everything on clear() (a fresh list)', () => {
    const o = new ReadYourWritesOverlay<KubeObject>();
    o.noteWrite('ns/a', cm('a', '7'), '6');
    o.clear();
    expect(o.read('ns/a', undefined)).toBeUndefined();
  });
});
