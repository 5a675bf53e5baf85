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

/** Defines a coded error type: `const E = defineError('TG_X', 'thing %s failed'); throw new E(['a'])`. */
export function defineError(code: string, template: string) {
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
