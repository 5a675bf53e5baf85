import { describe, expect, it } from 'vitest';
import { parseSelector } from './index.ts';

describe('parseSelector', () => {
  it('parses equality terms', () => {
    expect(parseSelector('a=b, c.io/d=e')).toEqual({ a: 'b', 'c.io/d': 'e' });
    expect(parseSelector('')).toBeUndefined();
    expect(parseSelector(undefined)).toBeUndefined();
  });

  it('refuses anything else, naming the term', () => {
    expect(() => parseSelector('a!=b')).toThrow("invalid tenant selector term 'a!=b' in 'a!=b'");
    expect(() => parseSelector('a')).toThrow(/term 'a'/);
  });
});
