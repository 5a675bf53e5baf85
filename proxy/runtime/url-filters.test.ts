import { describe, expect, it } from 'vitest';
import type { MatchEntry } from '../table/types.ts';
import { redirectLocation, rewritePath } from './url-filters.ts';

const prefix = (path: string) => ({ pathKind: 'PathPrefix', path }) as MatchEntry;
const exact = (path: string) => ({ pathKind: 'Exact', path }) as MatchEntry;
const replacePrefix = (value: string) => ({ type: 'ReplacePrefixMatch' as const, value });

describe('rewritePath ReplacePrefixMatch', () => {
  it('replaces exactly the matched prefix', () => {
    expect(rewritePath('/prefix/one/two', replacePrefix('/one'), prefix('/prefix/one'))).toBe('/one/two');
    expect(rewritePath('/foo/bar', replacePrefix('/xyz/'), prefix('/foo'))).toBe('/xyz/bar');
  });
  it('replacing with / neither doubles nor empties the path', () => {
    expect(rewritePath('/strip-prefix/three', replacePrefix('/'), prefix('/strip-prefix'))).toBe('/three');
    expect(rewritePath('/strip-prefix', replacePrefix('/'), prefix('/strip-prefix'))).toBe('/');
    expect(rewritePath('/foo/', replacePrefix('/'), prefix('/foo'))).toBe('/');
  });
  it('a root prefix keeps the whole path under the replacement', () => {
    expect(rewritePath('/a/b', replacePrefix('/x'), prefix('/'))).toBe('/x/a/b');
    expect(rewritePath('/', replacePrefix('/x'), prefix('/'))).toBe('/x');
  });
  it('ReplaceFullPath discards the rest; non-prefix matches are left alone', () => {
    expect(rewritePath('/full/one/two', { type: 'ReplaceFullPath', value: '/one' }, prefix('/full'))).toBe(
      '/one',
    );
    expect(rewritePath('/e', replacePrefix('/x'), exact('/e'))).toBe('/e');
  });
});

describe('redirectLocation', () => {
  const req = {
    scheme: 'http' as const,
    host: 'example.com',
    path: '/a',
    query: 'q=1&r',
    listenerPort: 8080,
  };
  it('keeps the listener port when neither port nor scheme is set', () => {
    expect(redirectLocation({ statusCode: 302, hostname: 'other.org' }, req, prefix('/'))).toBe(
      'http://other.org:8080/a?q=1&r',
    );
    expect(redirectLocation({ statusCode: 302 }, { ...req, listenerPort: 80 }, prefix('/'))).toBe(
      'http://example.com/a?q=1&r',
    );
  });
  it('a scheme change without a port uses the scheme default port', () => {
    expect(redirectLocation({ statusCode: 301, scheme: 'https' }, req, prefix('/'))).toBe(
      'https://example.com/a?q=1&r',
    );
  });
  it('an explicit port is kept unless it is the default of the scheme', () => {
    expect(redirectLocation({ statusCode: 302, port: 8443, scheme: 'https' }, req, prefix('/'))).toBe(
      'https://example.com:8443/a?q=1&r',
    );
    expect(redirectLocation({ statusCode: 302, port: 80 }, req, prefix('/'))).toBe(
      'http://example.com/a?q=1&r',
    );
  });
  it('rewrites the path like URLRewrite', () => {
    expect(
      redirectLocation(
        { statusCode: 302, path: replacePrefix('/new') },
        { ...req, path: '/old/x' },
        prefix('/old'),
      ),
    ).toBe('http://example.com:8080/new/x?q=1&r');
  });
});
