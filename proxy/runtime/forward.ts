// One proxied exchange with a backend, driven by the dispatcher's low-level handler so the response
// streams straight into the client response (with backpressure) without an intermediate stream. It owns
// the route timeouts (`request` for the whole exchange, `backendRequest` per try), the retries (on the
// configured status codes, connection errors and per-try timeouts, with a small backoff, bounded by the
// request timeout) and the mapping of upstream failures to 502/503/504.
import type { UpstreamController, UpstreamHandler, UpstreamRequest } from '../upstream/dispatcher.ts';
import { cleanResponseHeaders, modifyResponseHeaders, type ResponseHeaders } from './headers.ts';
import { replyText, type ClientResponse } from './replies.ts';
import type { CompiledBackend, CompiledRule, UpstreamEndpoint } from '../table/types.ts';
import type { UpstreamRegistry } from './upstreams.ts';
import { defineError } from '../../lib/errors.ts';

/** Why an upstream exchange was cut short (an abort reason, never shown to a client). */
const ExchangeAbortedError = defineError('TG_PROXY_EXCHANGE_ABORTED', 'upstream exchange aborted: %s');

type Controller = UpstreamController;

export interface ExchangeDone {
  status: number;
  /** why the proxy answered itself, if it did */
  error?: string;
  endpoint?: string;
}

export interface ExchangeOptions {
  res: ClientResponse;
  rule: CompiledRule;
  backend: CompiledBackend;
  method: string;
  path: string;
  headers: string[];
  body: Buffer | NodeJS.ReadableStream | AsyncIterable<Buffer> | null;
  /** response headers to add after the filters (CORS, policy verdicts) */
  extraResponseHeaders?: Record<string, string>;
  grpc: boolean;
  upstreams: UpstreamRegistry;
  onDone: (done: ExchangeDone) => void;
}

class TimeoutReason extends Error {
  readonly kind: 'request' | 'backend';
  constructor(kind: 'request' | 'backend') {
    super(`${kind} timeout`);
    this.kind = kind;
  }
}

export class BodyTooLargeError extends Error {
  readonly code = 'TG_BODY_TOO_LARGE';
}

const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'TG_UPSTREAM_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);
const RESET_ERRORS = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'TG_UPSTREAM_CLOSED',
  'TG_UPSTREAM_POOL_CLOSED',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
]);

/** Status and reason for a failed try; `retryable` when another try may succeed. */
function classify(err: unknown): { status: number; message: string; retryable: boolean } {
  if (err instanceof TimeoutReason)
    return { status: 504, message: `upstream ${err.kind} timeout`, retryable: err.kind === 'backend' };
  if (err instanceof BodyTooLargeError)
    return { status: 413, message: 'request body too large', retryable: false };
  const code = (err as { code?: string }).code ?? '';
  if (CONNECT_ERRORS.has(code))
    return { status: 502, message: `upstream connect error (${code})`, retryable: true };
  if (RESET_ERRORS.has(code))
    return { status: 503, message: `upstream reset before response (${code})`, retryable: true };
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'TG_UPSTREAM_TIMEOUT')
    return { status: 504, message: 'upstream timeout', retryable: true };
  return { status: 502, message: `upstream error${code ? ` (${code})` : ''}`, retryable: false };
}

const EXCHANGE = Symbol('tenantgate.exchange');

// shared listeners (no closure per request): `this` is the client response carrying its exchange
function onClientClose(this: ClientResponse & { [EXCHANGE]?: Exchange }): void {
  const ex = this[EXCHANGE];
  if (ex !== undefined && !ex.finished)
    ex.finish(
      { status: 499, error: 'client closed the connection' },
      new ExchangeAbortedError(['client closed']),
    );
}

function onClientDrain(this: ClientResponse & { [EXCHANGE]?: Exchange }): void {
  this[EXCHANGE]?.current?.controller?.resume();
}

export function nextEndpoint(backend: CompiledBackend): UpstreamEndpoint {
  const eps = backend.endpoints;
  if (eps.length === 1) return eps[0] as UpstreamEndpoint;
  const i = backend.cursor;
  backend.cursor = i + 1 >= eps.length ? 0 : i + 1;
  return eps[i % eps.length] as UpstreamEndpoint;
}

/** The handler of one try; callbacks of a superseded try are ignored. */
class Attempt implements UpstreamHandler {
  readonly exchange: Exchange;
  controller: Controller | undefined;
  aborted: Error | undefined;

  constructor(exchange: Exchange) {
    this.exchange = exchange;
  }

  abort(reason: Error): void {
    this.aborted = reason;
    this.controller?.abort(reason);
  }

  onRequestStart(controller: Controller): void {
    this.controller = controller;
    if (this.aborted) controller.abort(this.aborted);
  }

  onResponseStart(controller: Controller, statusCode: number, headers: ResponseHeaders): void {
    if (this.exchange.current === this) this.exchange.responseStart(controller, statusCode, headers);
  }

  onResponseData(controller: Controller, chunk: Buffer): void {
    if (this.exchange.current === this) this.exchange.responseData(controller, chunk);
  }

  onResponseEnd(_controller: Controller, trailers: ResponseHeaders, lastChunk?: Buffer): void {
    if (this.exchange.current === this) this.exchange.responseEnd(trailers, lastChunk);
  }

  onResponseError(_controller: Controller, err: Error): void {
    if (this.exchange.current === this) this.exchange.responseError(this.aborted ?? err);
  }
}

export class Exchange {
  readonly o: ExchangeOptions;
  current: Attempt | undefined;
  tries = 0;
  discarding = false;
  finished = false;
  status = 0;
  endpoint: UpstreamEndpoint | undefined;
  requestTimer: NodeJS.Timeout | undefined;
  backendTimer: NodeJS.Timeout | undefined;

  constructor(o: ExchangeOptions) {
    this.o = o;
  }

  start(): void {
    const t = this.o.rule.requestTimeoutMs;
    if (t > 0) this.requestTimer = setTimeout(() => this.onRequestTimeout(), t);
    const res = this.o.res as ClientResponse & { [EXCHANGE]?: Exchange };
    res[EXCHANGE] = this;
    res.on('close', onClientClose);
    this.send();
  }

  send(): void {
    this.tries++;
    this.discarding = false;
    const attempt = new Attempt(this);
    this.current = attempt;
    const backendMs = this.o.rule.backendTimeoutMs;
    if (backendMs > 0)
      this.backendTimer = setTimeout(() => attempt.abort(new TimeoutReason('backend')), backendMs);
    const endpoint = nextEndpoint(this.o.backend);
    this.endpoint = endpoint;
    try {
      this.o.upstreams.get(endpoint).dispatch(
        {
          path: this.o.path,
          method: this.o.method,
          headers: this.o.headers,
          body: this.o.body as UpstreamRequest['body'],
        },
        attempt,
      );
    } catch (err) {
      this.responseError(err as Error);
    }
  }

  canRetry(): boolean {
    const retry = this.o.rule.retry;
    // no deadline check: a retry that would outlive `timeouts.request` is cut by it (504), as the spec wants
    if (!retry || this.tries > retry.attempts || this.finished) return false;
    return this.o.body === null || Buffer.isBuffer(this.o.body);
  }

  retryLater(): void {
    this.clearBackendTimer();
    this.current = undefined;
    const backoff = this.o.rule.retry?.backoffMs ?? 0;
    setTimeout(
      () => {
        if (!this.finished) this.send();
      },
      backoff * 2 ** Math.max(0, this.tries - 1),
    );
  }

  clearBackendTimer(): void {
    if (this.backendTimer !== undefined) {
      clearTimeout(this.backendTimer);
      this.backendTimer = undefined;
    }
  }

  responseStart(controller: Controller, statusCode: number, headers: ResponseHeaders): void {
    if (statusCode < 200) return; // 1xx informational
    const retry = this.o.rule.retry;
    if (retry !== undefined && retry.codes.has(statusCode) && this.canRetry()) {
      this.discarding = true; // drain this answer, then try again
      return;
    }
    this.status = statusCode;
    const res = this.o.res;
    if (res.headersSent || this.finished) {
      controller.abort(new ExchangeAbortedError(['client response already started']));
      return;
    }
    cleanResponseHeaders(headers);
    const rh = this.o.rule.responseHeaders;
    if (rh !== undefined) modifyResponseHeaders(headers, rh);
    const bh = this.o.backend.responseHeaders;
    if (bh !== undefined) modifyResponseHeaders(headers, bh);
    const extra = this.o.extraResponseHeaders;
    if (extra !== undefined) for (const k in extra) headers[k.toLowerCase()] = extra[k];
    try {
      res.writeHead(statusCode, headers as Record<string, string | string[]>);
    } catch (err) {
      // a header Node will not send (e.g. a modifier value with a control character)
      controller.abort(err as Error);
    }
  }

  responseData(controller: Controller, chunk: Buffer): void {
    if (this.discarding || this.finished) return;
    if (!this.o.res.write(chunk)) {
      controller.pause();
      this.o.res.once('drain', onClientDrain);
    }
  }

  responseEnd(trailers: ResponseHeaders, lastChunk?: Buffer): void {
    if (this.discarding) {
      this.retryLater();
      return;
    }
    const res = this.o.res;
    if (trailers && this.o.grpc && 'addTrailers' in res) {
      let any = false;
      for (const _ in trailers) {
        any = true;
        break;
      }
      if (any) res.addTrailers(trailers as Record<string, string>);
    }
    // the body's last bytes with the end: one write for the client (h1-connection.ts)
    if (lastChunk !== undefined) res.end(lastChunk);
    else res.end();
    this.finish({ status: this.status, endpoint: this.endpoint?.origin });
  }

  responseError(err: Error): void {
    if (this.finished) return;
    const c = classify(err);
    if (c.retryable && !this.o.res.headersSent && this.canRetry()) {
      this.retryLater();
      return;
    }
    if (this.o.res.headersSent) {
      this.o.res.destroy();
      this.finish({ status: this.status, error: c.message, endpoint: this.endpoint?.origin });
      return;
    }
    replyText(this.o.res, c.status, c.message, undefined, this.o.grpc);
    this.finish({ status: c.status, error: c.message, endpoint: this.endpoint?.origin });
  }

  onRequestTimeout(): void {
    if (this.finished) return;
    const reason = new TimeoutReason('request');
    const started = this.o.res.headersSent;
    if (started) this.o.res.destroy();
    else replyText(this.o.res, 504, 'upstream request timeout', undefined, this.o.grpc);
    this.finish(
      { status: started ? this.status : 504, error: 'request timeout', endpoint: this.endpoint?.origin },
      reason,
    );
  }

  finish(done: ExchangeDone, abortReason?: Error): void {
    if (this.finished) return;
    this.finished = true;
    this.clearBackendTimer();
    if (this.requestTimer !== undefined) clearTimeout(this.requestTimer);
    this.o.res.removeListener('close', onClientClose);
    const attempt = this.current;
    this.current = undefined;
    if (abortReason && attempt) attempt.abort(abortReason);
    this.o.onDone(done);
  }
}
