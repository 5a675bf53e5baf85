import { describe, expect, it } from 'vitest';
import { isNewer } from './read-your-writes.ts';

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
