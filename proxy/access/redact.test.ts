import { describe, expect, it } from 'vitest';
import { isSensitiveHeader, redactHeaders, REDACTED } from './redact.ts';

describe('redactHeaders', () => {
  it('replaces credentials and keeps the rest', () => {
    const out = redactHeaders(
      {
        authorization: 'Bearer abc',
        cookie: 'sid=1',
        'x-api-key': 'k',
        'x-my-session-id': 's',
        'x-team-key': 'custom',
        accept: '*/*',
        'x-request-id': 'r1',
      },
      new Set(['x-team-key']),
    );
    expect(out).toEqual({
      authorization: REDACTED,
      cookie: REDACTED,
      'x-api-key': REDACTED,
      'x-my-session-id': REDACTED,
      'x-team-key': REDACTED,
      accept: '*/*',
      'x-request-id': 'r1',
    });
  });

  it('recognises credential-like names in any case', () => {
    expect(isSensitiveHeader('X-Upstream-Token')).toBe(true);
    expect(isSensitiveHeader('Proxy-Authorization')).toBe(true);
    expect(isSensitiveHeader('content-type')).toBe(false);
  });
});
