import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isValidAuthority,
  normalizeRequestPath,
  parseRequestTarget,
  type RequestTargetOptions,
} from './request-target.ts';

const path = (raw: string, o?: Partial<RequestTargetOptions>) =>
  normalizeRequestPath(raw, { mergeSlashes: true, escapedSlashes: 'reject', ...o });
const ok = (raw: string, o?: Partial<RequestTargetOptions>) => {
  const r = path(raw, o);
  if (!('path' in r)) throw new Error(`${raw} refused: ${r.rule}`);
  return r.path;
};
const rule = (raw: string, o?: Partial<RequestTargetOptions>) => {
  const r = path(raw, o);
  return 'path' in r ? `path ${r.path}` : `${r.status} ${r.rule}`;
};

describe('normalizeRequestPath (RFC 3986 §6.2.2)', () => {
  it('leaves a normal path as it is (the same string)', () => {
    for (const p of ['/', '/a', '/a/b/', '/api/v1/items', '/a.b/c~d_e-f', '/.well-known/x', '/a;b=c', '/%20'])
      expect(ok(p)).toBe(p);
  });
  it('decodes escaped unreserved characters and upper-cases other escapes', () => {
    expect(ok('/%61dmin')).toBe('/admin');
    expect(ok('/%41%7a%30%2D%2e%5F%7E')).toBe('/Az0-._~');
    expect(ok('/a%3fb%20c%25')).toBe('/a%3Fb%20c%25');
    expect(ok('/%2541')).toBe('/%2541'); // a literal "%41", not "A"
  });
  it('removes dot segments, including escaped ones', () => {
    expect(ok('/public/../admin')).toBe('/admin');
    expect(ok('/a/./b')).toBe('/a/b');
    expect(ok('/a/b/..')).toBe('/a/');
    expect(ok('/a/.')).toBe('/a/');
    expect(ok('/a/..')).toBe('/');
    expect(ok('/public/%2e%2e/admin')).toBe('/admin');
    expect(ok('/public/.%2E/admin')).toBe('/admin');
    expect(ok('/a/..b/.c')).toBe('/a/..b/.c');
  });
  it('merges repeated slashes unless turned off', () => {
    expect(ok('//admin')).toBe('/admin');
    expect(ok('/a///b//')).toBe('/a/b/');
    expect(ok('//')).toBe('/');
    expect(ok('//admin', { mergeSlashes: false })).toBe('//admin');
    expect(ok('/a//../b', { mergeSlashes: false })).toBe('/a/b');
    expect(ok('/a//b/../c', { mergeSlashes: false })).toBe('/a//c');
  });
  it('refuses what cannot be normalised', () => {
    expect(rule('/..')).toBe('400 path.above-root');
    expect(rule('/a/../..')).toBe('400 path.above-root');
    expect(rule('/%2e%2e/x')).toBe('400 path.above-root');
    expect(rule('/a%2')).toBe('400 path.invalid-escape');
    expect(rule('/a%zz')).toBe('400 path.invalid-escape');
    expect(rule('/a#frag')).toBe('400 target.fragment');
    expect(rule('/a\x00b')).toBe('400 target.character');
    expect(rule('/a\tb')).toBe('400 target.character');
    expect(rule('/a b')).toBe('400 target.character');
    expect(rule('/caf\u00e9')).toBe('400 target.character');
    expect(rule('/a\x7f')).toBe('400 target.character');
    expect(rule('relative')).toBe('400 target.form');
    expect(rule('')).toBe('400 target.form');
    expect(rule('/public/..;/admin')).toBe('400 path.dot-segment-parameter');
    expect(rule('/public/.;x/admin')).toBe('400 path.dot-segment-parameter');
  });
  it('encoded slashes and backslashes: reject (default), keep, unescape-and-redirect', () => {
    for (const p of ['/admin%2Fx', '/admin%2fx', '/a%5Cb', '/a\\b'])
      expect(rule(p)).toBe('400 path.escaped-slash');
    expect(ok('/admin%2fx', { escapedSlashes: 'keep' })).toBe('/admin%2Fx');
    expect(ok('/a\\..\\b', { escapedSlashes: 'keep' })).toBe('/a%5C..%5Cb');
    expect(ok('/public/..%2Fadmin', { escapedSlashes: 'keep' })).toBe('/public/..%2Fadmin');
    const r = path('/public%2F..%2Fadmin', { escapedSlashes: 'unescape-and-redirect' });
    expect(r).toMatchObject({ status: 307, rule: 'path.escaped-slash', location: '/admin' });
    expect(path('/a%5cb', { escapedSlashes: 'unescape-and-redirect' })).toMatchObject({ location: '/a/b' });
    expect(rule('/%2F..%2F..', { escapedSlashes: 'unescape-and-redirect' })).toBe('400 path.above-root');
  });
});

// Paths built from the pieces attackers combine: dot segments (plain and escaped), escaped letters,
// encoded slashes, empty segments, and ordinary names.
const segment = fc.constantFrom(
  '',
  '.',
  '..',
  '%2e',
  '%2E%2e',
  '.%2e',
  'admin',
  'public',
  '%61dmin',
  'a%2Fb',
  'a%5cb',
  '%7e',
  '%25',
  '%3B',
  'x;y',
  '..b',
  '%c3%a9',
  'A',
);
const rawPath = fc.array(segment, { maxLength: 8 }).map((s) => `/${s.join('/')}`);
const optionsArb = fc.record({
  mergeSlashes: fc.boolean(),
  escapedSlashes: fc.constantFrom('keep' as const, 'reject' as const, 'unescape-and-redirect' as const),
});

describe('normalizeRequestPath properties', () => {
  it('is idempotent and leaves no dot segment, no unreserved escape, no lower-case escape', () => {
    fc.assert(
      fc.property(rawPath, optionsArb, (raw, o) => {
        const r = normalizeRequestPath(raw, o);
        if (!('path' in r)) return;
        const once = r.path;
        expect(normalizeRequestPath(once, o)).toEqual({ path: once });
        expect(once.startsWith('/')).toBe(true);
        expect(once.split('/').some((s) => s === '.' || s === '..')).toBe(false);
        expect(/%(?:[46][1-9A-F]|[57][0-9A]|3[0-9]|2D|2E|5F|7E)/i.test(once)).toBe(false);
        expect(/%[0-9A-F]?[a-f]/.test(once)).toBe(false);
        if (o.mergeSlashes) expect(once.includes('//')).toBe(false);
        if (o.escapedSlashes !== 'keep') expect(/%2F|%5C/i.test(once)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
  it('a redirect target is itself normal and served as is', () => {
    fc.assert(
      fc.property(rawPath, fc.boolean(), (raw, mergeSlashes) => {
        const o = { mergeSlashes, escapedSlashes: 'unescape-and-redirect' as const };
        const r = normalizeRequestPath(raw, o);
        if ('location' in r && r.location !== undefined)
          expect(normalizeRequestPath(r.location, o)).toEqual({ path: r.location });
      }),
      { numRuns: 1000 },
    );
  });
  it('agrees with the WHATWG URL parser on the segments both read the same way', () => {
    // only paths without escapes or backslashes, where the two definitions coincide
    const plain = fc
      .array(fc.constantFrom('a', 'b', '.', '..', 'c.d'), { minLength: 1, maxLength: 6 })
      .map((s) => `/x/y/${s.join('/')}`);
    fc.assert(
      fc.property(plain, (raw) => {
        const r = normalizeRequestPath(raw);
        const whatwg = new URL(raw, 'http://h').pathname;
        if ('path' in r) expect(r.path).toBe(whatwg);
        else expect(r.rule).toBe('path.above-root');
      }),
    );
  });
});

describe('parseRequestTarget', () => {
  it('splits origin-form and keeps the query as written', () => {
    expect(parseRequestTarget('/a/b?x=%2f&y=..', true)).toEqual({
      form: 'origin',
      path: '/a/b',
      search: '?x=%2f&y=..',
    });
  });
  it('reads the authority of an absolute-form target', () => {
    expect(parseRequestTarget('http://Admin.Test:8080/x?q', true)).toEqual({
      form: 'absolute',
      authority: 'Admin.Test:8080',
      path: '/x',
      search: '?q',
    });
    expect(parseRequestTarget('HTTPS://a.test', true)).toMatchObject({ authority: 'a.test', path: '/' });
    expect(parseRequestTarget('http://a.test?x', true)).toMatchObject({ path: '/', search: '?x' });
  });
  it('refuses userinfo, bad authorities, other schemes, authority-form, and absolute-form on HTTP/2', () => {
    expect(parseRequestTarget('http://u:p@a.test/', true)).toMatchObject({ rule: 'authority.userinfo' });
    expect(parseRequestTarget('http:///x', true)).toMatchObject({ rule: 'host.invalid' });
    expect(parseRequestTarget('http://a b/x', true)).toMatchObject({ rule: 'host.invalid' });
    expect(parseRequestTarget('ftp://a.test/', true)).toMatchObject({ rule: 'target.form' });
    expect(parseRequestTarget('a.test:443', true)).toMatchObject({ rule: 'target.form' });
    expect(parseRequestTarget('http://a.test/', false)).toMatchObject({ rule: 'target.form' });
    expect(parseRequestTarget('*', true)).toEqual({ form: 'asterisk', path: '*', search: '' });
  });
});

describe('isValidAuthority', () => {
  it('accepts names, IPv4, bracketed IPv6, with an optional port', () => {
    for (const a of [
      'example.com',
      'EXAMPLE.com:80',
      'a_b.test',
      '127.0.0.1:10080',
      '[::1]',
      '[::1]:8080',
      'h:',
    ])
      expect(isValidAuthority(a)).toBe(true);
  });
  it('refuses empty, spaces, paths, userinfo, bad ports, escapes and sub-delimiters', () => {
    for (const a of [
      '',
      ' ',
      'a b',
      'a.test/x',
      'u@a.test',
      'a.test:http',
      'a.test:99999',
      'a.test:1:2',
      '[::1',
      '[zz]',
      'a%2Etest',
      'a,b',
      ':80',
      'a.test\\x',
    ])
      expect(isValidAuthority(a), a).toBe(false);
  });
});
