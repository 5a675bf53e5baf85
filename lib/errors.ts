// A catalogue of coded errors (in the manner of fastify's): every error tenantgate raises on purpose has
// a stable code that logs, metrics and tests can match on, and keeps the underlying failure as `cause`.

export class TenantgateError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TenantgateError';
    this.code = code;
  }
}

/** Every code defined so far, with its message template: the one catalogue, wherever a code is defined. */
const catalogue = new Map<string, string>();

/** The codes and message templates defined by the modules loaded so far (for docs and tests). */
export function errorCatalogue(): ReadonlyMap<string, string> {
  return catalogue;
}

/**
 * Defines a coded error type: `const E = defineError('TG_X', 'thing %s failed'); throw new E(['a'])`.
 * A code means one thing: defining it again with another message throws at load time, so that logs and
 * alerts matching on a code never see two different failures under it.
 */
export function defineError(code: string, template: string) {
  const known = catalogue.get(code);
  if (known !== undefined && known !== template)
    throw new TenantgateError(
      'TG_DUPLICATE_ERROR_CODE',
      `error code ${code} is already defined as '${known}'; give '${template}' a code of its own`,
    );
  catalogue.set(code, template);
  return class extends TenantgateError {
    constructor(args: readonly (string | number)[] = [], options?: { cause?: unknown }) {
      let i = 0;
      super(
        code,
        template.replace(/%s/g, () => String(args[i++] ?? '')),
        options,
      );
    }
  };
}

/** The message of anything thrown, without assuming it is an Error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
