import { hash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ClientSelector } from '../../api/ratelimitpolicy.ts';
import { compileClientSelectors, MAX_VERBATIM, type ClientKeying } from './selectors.ts';
import { request } from '../../test/helpers/ratelimit.ts';

const TWO_HEADERS_AND_IP: ClientSelector[] = [
  {
    headers: [
      { name: 'X-API-Key', type: 'Distinct' },
      { name: 'X-User', type: 'Distinct' },
    ],
    sourceCIDR: { type: 'Distinct', value: '0.0.0.0/0' },
  },
];

// values made of the characters a key is built from, so that boundaries are tried
const value = fc.string({
  unit: fc.constantFrom('1', '2', ':', '@', '#', '|', 'a', '\u0000'),
  maxLength: 80,
});
const client = fc.record({
  key: value,
  user: value,
  ip: fc.constantFrom('10.0.0.1', '10.0.0.10', '10.0.1.0'),
});
const ctx = (c: { key: string; user: string; ip: string }) =>
  request({ headers: { 'x-api-key': c.key, 'x-user': c.user }, sourceIp: c.ip });

describe('Distinct client keys', () => {
  for (const keying of ['verbatim', 'digest'] as ClientKeying[]) {
    it(`never give two different clients one counter (${keying}; property)`, () => {
      const key = compileClientSelectors(TWO_HEADERS_AND_IP, keying);
      fc.assert(
        fc.property(client, client, (a, b) => {
          const same = a.key === b.key && a.user === b.user && a.ip === b.ip;
          expect(key(ctx(a)) === key(ctx(b))).toBe(same);
        }),
        { numRuns: 5_000 },
      );
    });
  }

  it('are bounded in length whatever the client sends', () => {
    const key = compileClientSelectors(TWO_HEADERS_AND_IP, 'verbatim');
    const short = key(ctx({ key: 'k-1', user: 'u', ip: '10.0.0.1' }));
    expect(short).toBe('3:k-11:u@10.0.0.1'); // the values themselves: no hash on the hot path
    const long = key(ctx({ key: 'x'.repeat(10_000), user: 'u', ip: '10.0.0.1' }))!;
    expect(long).toMatch(/^#[A-Za-z0-9_-]{22}@10\.0\.0\.1$/);
    fc.assert(
      fc.property(client, (c) => {
        expect(key(ctx(c))!.length).toBeLessThanOrEqual(MAX_VERBATIM + '@10.0.0.10'.length);
      }),
    );
  });

  it('keep the Redis key format of earlier versions (counters carry over an upgrade)', () => {
    const key = compileClientSelectors(TWO_HEADERS_AND_IP, 'digest');
    const before = hash('sha256', 'x-api-key\u0000k-1\u0000x-user\u0000u\u0000', 'base64url').slice(0, 22);
    expect(key(ctx({ key: 'k-1', user: 'u', ip: '10.0.0.1' }))).toBe(`${before}|10.0.0.1`);
    // digest is the default keying
    expect(compileClientSelectors(TWO_HEADERS_AND_IP)(ctx({ key: 'k-1', user: 'u', ip: '10.0.0.1' }))).toBe(
      `${before}|10.0.0.1`,
    );
  });
});
