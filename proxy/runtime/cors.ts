// The CORS filter: the proxy answers preflights itself (never forwarded) and adds the allow headers to
// actual responses for allowed origins. With allowCredentials a wildcard cannot be sent back, so the
// request's own origin, method and headers are echoed instead.
import type { CompiledCors } from '../table/types.ts';

export function originAllowed(cors: CompiledCors, origin: string): boolean {
  if (cors.anyOrigin) return true;
  const lower = origin.toLowerCase();
  if (cors.origins.has(lower)) return true;
  return cors.originPatterns.some((p) => p.test(lower));
}

function allowOrigin(cors: CompiledCors, origin: string): string {
  return cors.anyOrigin && !cors.allowCredentials ? '*' : origin;
}

/** Headers of the preflight answer; undefined when the origin is not allowed (answered without them). */
export function preflightHeaders(
  cors: CompiledCors,
  origin: string,
  requestMethod: string,
  requestHeaders: string | undefined,
): Record<string, string> | undefined {
  if (!originAllowed(cors, origin)) return undefined;
  const h: Record<string, string> = {
    'access-control-allow-origin': allowOrigin(cors, origin),
    vary: 'Origin',
  };
  if (cors.anyMethod) h['access-control-allow-methods'] = cors.allowCredentials ? requestMethod : '*';
  else if (cors.allowMethods.length) h['access-control-allow-methods'] = cors.allowMethods.join(', ');
  if (cors.anyHeader) {
    const echo = cors.allowCredentials ? requestHeaders : '*';
    if (echo) h['access-control-allow-headers'] = echo;
  } else if (cors.allowHeaders.length) h['access-control-allow-headers'] = cors.allowHeaders.join(', ');
  if (cors.exposeHeaders) h['access-control-expose-headers'] = cors.exposeHeaders;
  if (cors.maxAge !== undefined) h['access-control-max-age'] = cors.maxAge;
  if (cors.allowCredentials) h['access-control-allow-credentials'] = 'true';
  return h;
}

/** Headers added to an actual (non-preflight) response for an allowed origin. */
export function responseCorsHeaders(cors: CompiledCors, origin: string): Record<string, string> | undefined {
  if (!originAllowed(cors, origin)) return undefined;
  const h: Record<string, string> = { 'access-control-allow-origin': allowOrigin(cors, origin) };
  if (cors.allowCredentials) h['access-control-allow-credentials'] = 'true';
  if (cors.exposeHeaders) h['access-control-expose-headers'] = cors.exposeHeaders;
  return h;
}
