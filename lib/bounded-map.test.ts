import { describe, expect, it } from 'vitest';
import { BoundedMap } from './bounded-map.ts';

describe('BoundedMap', () => {
  it('never holds more than its bound, and keeps what was used within the last max/2 keys', () => {
    const map = new BoundedMap<number, string>(100);
    for (let i = 0; i < 10_000; i++) {
      map.set(i, `v${i}`);
      expect(map.get(0)).toBe('v0'); // used on every step: never evicted
      expect(map.size).toBeLessThanOrEqual(100);
    }
    expect(map.get(9_999)).toBe('v9999');
    expect(map.get(5)).toBeUndefined();
    map.clear();
    expect(map.size).toBe(0);
  });
});
