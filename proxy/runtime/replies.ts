// Answers the proxy gives itself: short plain-text errors (or a gRPC status for gRPC clients, who cannot
// read an HTTP error page), redirects, and CORS preflight responses.
import type { ServerResponse } from 'node:http';

/**
 * The client response. HTTP/2 responses (Http2ServerResponse) share every member the pipeline uses, so
 * the servers hand them over under this one type.
 */
export type ClientResponse = ServerResponse;

const GRPC_STATUS: Record<number, number> = {
  400: 3,
  403: 7,
  404: 12,
  413: 8,
  421: 14,
  429: 8,
  500: 13,
  502: 14,
  503: 14,
  504: 4,
};

/** A short plain answer. Extra headers (e.g. from a policy verdict) are added as given. */
export function replyText(
  res: ClientResponse,
  status: number,
  message: string,
  headers?: Record<string, string>,
  grpc = false,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (grpc) {
    res.writeHead(200, {
      ...headers,
      'content-type': 'application/grpc',
      'grpc-status': String(GRPC_STATUS[status] ?? 2),
      'grpc-message': encodeURIComponent(message),
    });
    res.end();
    return;
  }
  const body = `${message}\n`;
  res.writeHead(status, {
    ...headers,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
  });
  res.end(body);
}

export function replyRedirect(res: ClientResponse, status: number, location: string): void {
  res.writeHead(status, { location, 'content-length': '0' });
  res.end();
}

export function replyEmpty(res: ClientResponse, status: number, headers: Record<string, string>): void {
  res.writeHead(status, { ...headers, 'content-length': '0' });
  res.end();
}
