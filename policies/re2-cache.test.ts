import { describe, expect, it } from 'vitest';
import { customBuiltins } from './builtins.ts';
import { findN, Re2Cache } from './re2-cache.ts';

describe('Re2Cache and regex.find_n', () => {
  it('answers as OPA does (known answers from `opa eval`)', () => {
    const cache = new Re2Cache();
    expect(findN(cache, 'a*', 'baaab', -1)).toEqual(['', 'aaa', '']);
    expect(findN(cache, '^$', '', 1)).toEqual(['']);
    expect(findN(cache, 'x', 'abc', 1)).toEqual([]);
    expect(findN(cache, '[0-9]+', 'a12b345', -1)).toEqual(['12', '345']);
    expect(findN(cache, '[0-9]+', 'a12b345', 1)).toEqual(['12']);
    // RE2 syntax, not JavaScript's: a backreference is refused rather than backtracked
    expect(() => findN(cache, '(a)\\1', 'aa', 1)).toThrow(/invalid regular expression/);
  });

  it('compiles a pattern once, however many evaluations use it, and keeps a bounded number', () => {
    const cache = new Re2Cache(8);
    for (let i = 0; i < 1_000; i++) findN(cache, '^[0-9a-f-]{36}$', `0b7c${i}`, 1);
    expect(cache.compilations).toBe(1);
    for (let i = 0; i < 100; i++) findN(cache, `^p${i}$`, 'x', 1);
    expect(cache.size).toBeLessThanOrEqual(8);
    // an invalid pattern fails every time, compiled once
    const before = cache.compilations;
    for (let i = 0; i < 5; i++) expect(() => cache.get('(')).toThrow(/missing closing/);
    expect(cache.compilations).toBe(before + 1);
  });

  it('is the builtin the bundles get', () => {
    expect(customBuiltins['regex.find_n']!('^a', 'abc', 1)).toEqual(['a']);
    expect(customBuiltins['regex.find_n']!('^b', 'abc', 1)).toEqual([]);
  });
});
