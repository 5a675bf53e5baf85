import { describe, expect, it } from 'vitest';
import { effectiveHostnames, hostnameMatches, intersectHostname, normalizeHost } from './hostnames.ts';

describe('hostnameMatches', () => {
  it('a wildcard matches one or more labels but not the bare domain', () => {
    expect(hostnameMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(hostnameMatches('*.example.com', 'a.b.example.com')).toBe(true);
    expect(hostnameMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostnameMatches('*.example.com', 'aexample.com')).toBe(false);
  });
  it('exact names match exactly', () => {
    expect(hostnameMatches('example.com', 'example.com')).toBe(true);
    expect(hostnameMatches('example.com', 'www.example.com')).toBe(false);
  });
});

describe('intersectHostname', () => {
  it('keeps the more specific side', () => {
    expect(intersectHostname('*.wildcard.io', 'foo.wildcard.io')).toBe('foo.wildcard.io');
    expect(intersectHostname('very.specific.com', '*.specific.com')).toBe('very.specific.com');
    expect(intersectHostname('*.a.com', '*.b.a.com')).toBe('*.b.a.com');
    expect(intersectHostname('*.b.a.com', '*.a.com')).toBe('*.b.a.com');
  });
  it('is undefined for disjoint names', () => {
    expect(intersectHostname('*.wildcard.io', 'wildcard.io')).toBeUndefined();
    expect(intersectHostname('a.com', 'b.com')).toBeUndefined();
    expect(intersectHostname('*.a.com', '*.b.com')).toBeUndefined();
  });
});

describe('effectiveHostnames', () => {
  it('an empty list means every host; undefined means no attachment', () => {
    expect(effectiveHostnames(undefined, undefined)).toEqual([]);
    expect(effectiveHostnames('foo.com', undefined)).toEqual(['foo.com']);
    expect(effectiveHostnames(undefined, ['A.com'])).toEqual(['a.com']);
    expect(
      effectiveHostnames('*.wildcard.io', ['non.matching.com', 'wildcard.io', 'foo.wildcard.io']),
    ).toEqual(['foo.wildcard.io']);
    expect(effectiveHostnames('very.specific.com', ['specific.but.wrong.com'])).toBeUndefined();
  });
});

describe('normalizeHost', () => {
  it('drops the port, a trailing dot and case', () => {
    expect(normalizeHost('Very.Specific.com:1234')).toBe('very.specific.com');
    expect(normalizeHost('[::1]:8080')).toBe('::1');
    expect(normalizeHost('example.com.')).toBe('example.com');
    expect(normalizeHost(undefined)).toBe('');
  });
});
