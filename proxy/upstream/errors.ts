// The coded failures of the HTTP/1.1 upstream client. forward.ts classify() maps them to the answer the
// client gets (see the code sets there): a closed connection or a closed pool is a reset (503, retryable),
// a connect timeout a connect error (502, retryable), a silent backend a timeout (504), a protocol
// violation or a request that cannot be written a plain 502.
import { defineError } from '../../lib/errors.ts';

/** The backend closed (or reset) the connection before the response was complete. */
export const UpstreamClosedError = defineError('TG_UPSTREAM_CLOSED', 'upstream connection closed %s');

/** The response breaks RFC 9112 framing or syntax; the connection is destroyed, never reused. */
export const UpstreamProtocolError = defineError(
  'TG_UPSTREAM_PROTOCOL',
  'upstream response violates HTTP/1.1: %s',
);

/** The request (method, target, a header, the body length) cannot be sent as it is; nothing was sent. */
export const UpstreamRequestError = defineError('TG_UPSTREAM_REQUEST', 'request cannot be sent upstream: %s');

export const UpstreamConnectTimeoutError = defineError(
  'TG_UPSTREAM_CONNECT_TIMEOUT',
  'upstream connect timeout after %s ms',
);

/** A busy connection on which the backend sent nothing for the idle bound (a backend that never answers). */
export const UpstreamTimeoutError = defineError('TG_UPSTREAM_TIMEOUT', 'upstream silent for %s ms');

export const UpstreamPoolClosedError = defineError('TG_UPSTREAM_POOL_CLOSED', 'upstream pool is closed');
