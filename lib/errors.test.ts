import { describe, expect, it } from 'vitest';
import { defineError, errorCatalogue, errorMessage, TenantgateError } from './errors.ts';

describe('defineError', () => {
  it('makes coded errors that fill their template and keep the cause', () => {
    const E = defineError('TG_TEST_FILL', "thing '%s' failed: %s");
    const cause = new Error('disk full');
    const err = new E(['x', 7], { cause });
    expect(err).toBeInstanceOf(TenantgateError);
    expect(err).toMatchObject({ code: 'TG_TEST_FILL', message: "thing 'x' failed: 7", cause });
    expect(errorCatalogue().get('TG_TEST_FILL')).toBe("thing '%s' failed: %s");
  });

  it('refuses a code already defined with another message, naming both', () => {
    defineError('TG_TEST_ONCE', 'first meaning %s');
    expect(() => defineError('TG_TEST_ONCE', 'first meaning %s')).not.toThrow(); // a module loaded twice
    expect(() => defineError('TG_TEST_ONCE', 'second meaning %s')).toThrow(
      "error code TG_TEST_ONCE is already defined as 'first meaning %s'; give 'second meaning %s' a code of its own",
    );
  });
});

describe('errorMessage', () => {
  it('reads the message of anything thrown', () => {
    expect(errorMessage(new Error('a'))).toBe('a');
    expect(errorMessage('b')).toBe('b');
  });
});
