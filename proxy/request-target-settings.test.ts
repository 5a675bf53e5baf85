import { describe, expect, it } from 'vitest';
import { resolveRequestTargetOptions } from './request-target-settings.ts';

describe('resolveRequestTargetOptions', () => {
  it('defaults: merge slashes, reject encoded slashes', () => {
    expect(resolveRequestTargetOptions({}, {})).toEqual({ mergeSlashes: true, escapedSlashes: 'reject' });
  });
  it('options win over the environment, which wins over the defaults', () => {
    const env = { TENANTGATE_MERGE_SLASHES: 'false', TENANTGATE_ESCAPED_SLASHES: 'keep' };
    expect(resolveRequestTargetOptions({}, env)).toEqual({ mergeSlashes: false, escapedSlashes: 'keep' });
    expect(resolveRequestTargetOptions({ escapedSlashes: 'unescape-and-redirect' }, env)).toEqual({
      mergeSlashes: false,
      escapedSlashes: 'unescape-and-redirect',
    });
  });
  it('a bad value names where it came from and what is allowed', () => {
    expect(() => resolveRequestTargetOptions({}, { TENANTGATE_ESCAPED_SLASHES: 'decode' })).toThrow(
      "proxy request-target setting TENANTGATE_ESCAPED_SLASHES: 'decode' must be one of keep, reject, unescape-and-redirect",
    );
    expect(() => resolveRequestTargetOptions({}, { TENANTGATE_MERGE_SLASHES: 'maybe' })).toThrow(
      /TENANTGATE_MERGE_SLASHES: 'maybe' must be true or false/,
    );
  });
});
