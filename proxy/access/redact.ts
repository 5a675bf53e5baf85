// Request headers as access-policy logs may show them: credentials replaced, so that a debug line about a
// refused request never carries an API key, a bearer token or a session cookie.

const SENSITIVE = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'api-key',
  'x-auth-token',
  'x-access-token',
  'x-csrf-token',
  'x-xsrf-token',
  'x-amz-security-token',
]);
/** names that look like credentials, whatever the deployment calls them */
const SENSITIVE_PATTERN = /auth|token|secret|passw|api[-_]?key|session|cookie|signature|credential/i;

export const REDACTED = '[redacted]';

export function isSensitiveHeader(name: string, extra?: ReadonlySet<string>): boolean {
  const n = name.toLowerCase();
  return SENSITIVE.has(n) || extra?.has(n) === true || SENSITIVE_PATTERN.test(n);
}

/** A copy of the headers with every sensitive value replaced by REDACTED (the name stays, to debug with). */
export function redactHeaders(
  headers: Readonly<Record<string, string>>,
  extra?: ReadonlySet<string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    out[name] = isSensitiveHeader(name, extra) ? REDACTED : value;
  }
  return out;
}
