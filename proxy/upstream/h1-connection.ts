// One keep-alive connection to a backend, carrying one exchange at a time (no pipelining): it writes the
// request, feeds the answer to the strict parser, hands head/body/end to the exchange's handler and tells
// the pool when it is free again, or gone. A connection is reused only when the answer was complete, the
// backend allows it (HTTP/1.1, no `Connection: close`, not close-delimited, `Keep-Alive: timeout` long
// enough), the request body was fully sent and not one byte followed the answer; otherwise it is destroyed.
import { connect, type Socket } from 'node:net';
import type { H1Exchange, H1Pool } from './h1-pool.ts';
import { declaredLength, isStreamBody, writeStreamBody } from './h1-request.ts';
import type { ResponseHeaders } from './dispatcher.ts';
import { H1ResponseParser, type ResponseSink } from './h1-response-parser.ts';
import { UpstreamClosedError, UpstreamConnectTimeoutError, UpstreamTimeoutError } from './errors.ts';

export interface ConnectionSettings {
  host: string;
  port: number;
  connectTimeoutMs: number;
  /** idle keep-alive bound; a backend's shorter `Keep-Alive: timeout` wins (less the margin) */
  keepAliveMs: number;
  /** a busy connection on which nothing moves for this long fails (a backend that never answers) */
  silenceTimeoutMs: number;
  maxHeaderBytes: number;
}

/** Subtracted from a backend's `Keep-Alive: timeout`, so that we drop the connection before it does. */
const KEEP_ALIVE_MARGIN_MS = 1_000;

const CONNECTION = Symbol('tenantgate.h1-connection');
type TaggedSocket = Socket & { [CONNECTION]: H1Connection };

/**
 * Every upstream socket of this thread reads into this one buffer (net's `onread`), which the parser
 * consumes before the next read can happen: no 64 KiB allocation per read and no stream machinery
 * (push, buffer, 'data' event) between the socket and the parser. The price: nothing may keep a view of
 * it past the read, so the parser copies a split header section and `onBody` copies the bytes it hands on.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

// shared socket listeners (no closures per connection or request): `this` is the socket
function onSocketError(this: TaggedSocket, err: Error): void {
  this[CONNECTION].socketError ??= err;
}
function onSocketEnd(this: TaggedSocket): void {
  const conn = this[CONNECTION];
  // a clean close (FIN) before any error: how a backend drops a connection it deems idle
  if (conn.socketError === undefined) conn.endedByPeer = true;
}
function onSocketClose(this: TaggedSocket): void {
  this[CONNECTION].closed();
}
function onSocketConnect(this: TaggedSocket): void {
  this[CONNECTION].connected();
}
function onSocketTimeout(this: TaggedSocket): void {
  this[CONNECTION].silent();
}
function onConnectTimeout(conn: H1Connection): void {
  conn.connectTimedOut();
}
function onIdleTimeout(conn: H1Connection): void {
  if (conn.idle) conn.destroy();
}

export class H1Connection implements ResponseSink {
  readonly socket: TaggedSocket;
  readonly #pool: H1Pool;
  readonly #settings: ConnectionSettings;
  readonly #parser: H1ResponseParser;
  exchange: H1Exchange | null = null;
  /** exchanges completed on this connection: a failure before any response byte on a reused one is the
   *  keep-alive race (the backend closed it while idle), which the pool retries on a fresh connection */
  served = 0;
  /** in the pool's idle list */
  idle = false;
  socketError: Error | undefined;
  /** the backend closed the connection cleanly (FIN) before any socket error */
  endedByPeer = false;
  #received = false;
  #writingBody = false;
  #trailers: ResponseHeaders | null = null;
  /**
   * The latest body bytes of this read, held until the read is parsed: when the response ends in the same
   * read (nearly every small answer), they go with the end, so the client response is finished with one
   * write instead of a write and an end. Never held across reads (a streamed body is not delayed).
   */
  #held: Buffer | null = null;
  #connectTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #idleMs = 0;

  constructor(pool: H1Pool, settings: ConnectionSettings) {
    this.#pool = pool;
    this.#settings = settings;
    this.#parser = new H1ResponseParser(this, settings.maxHeaderBytes);
    const socket = connect({
      host: settings.host,
      port: settings.port,
      noDelay: true,
      // one closure per connection (net does not document what `this` is in this callback)
      onread: {
        buffer: READ_BUFFER,
        callback: (nread) => {
          this.data(nread === READ_BUFFER.length ? READ_BUFFER : READ_BUFFER.subarray(0, nread));
          return true; // reading stops through pause(), which the exchange drives (backpressure)
        },
      },
    }) as TaggedSocket;
    socket[CONNECTION] = this;
    this.socket = socket;
    socket.on('error', onSocketError);
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
    socket.once('connect', onSocketConnect);
    socket.on('timeout', onSocketTimeout);
    this.#connectTimer = setTimeout(onConnectTimeout, settings.connectTimeoutMs, this);
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }

  connected(): void {
    clearTimeout(this.#connectTimer);
    this.#connectTimer = undefined;
    this.socket.setTimeout(this.#settings.silenceTimeoutMs);
  }

  connectTimedOut(): void {
    this.#connectTimer = undefined;
    this.socketError ??= new UpstreamConnectTimeoutError([this.#settings.connectTimeoutMs]);
    this.socket.destroy();
  }

  silent(): void {
    if (this.exchange !== null) this.fail(new UpstreamTimeoutError([this.#settings.silenceTimeoutMs]));
  }

  /** Sends the exchange's request on this (connected or connecting) socket; writes queue until connected. */
  start(ex: H1Exchange): void {
    this.exchange = ex;
    this.idle = false;
    ex.connection = this;
    this.#received = false;
    this.#trailers = null;
    this.#held = null;
    this.#writingBody = false;
    const request = ex.request;
    this.#parser.reset(request.method === 'HEAD');
    const socket = this.socket;
    if (ex.paused) socket.pause();
    else if (socket.isPaused()) socket.resume();
    const body = request.body;
    if (body === null) socket.write(ex.head, 'latin1');
    else if (isStreamBody(body)) {
      socket.write(ex.head, 'latin1');
      this.#writingBody = true;
      void this.#streamBody(ex, body);
    } else {
      socket.cork();
      socket.write(ex.head, 'latin1');
      socket.write(body);
      socket.uncork();
    }
  }

  async #streamBody(ex: H1Exchange, body: NodeJS.ReadableStream | AsyncIterable<Buffer>): Promise<void> {
    try {
      await writeStreamBody(this.socket, body, declaredLength(ex.request.headers), ex);
      // a body that was not sent in full leaves the connection unusable (the backend still waits for it)
      if (!ex.done && !this.socket.destroyed) this.#writingBody = false;
    } catch (err) {
      if (this.exchange === ex) this.fail(err as Error);
    }
  }

  data(chunk: Buffer): void {
    const ex = this.exchange;
    if (ex === null) {
      // bytes while idle belong to no request: the connection cannot be trusted any more
      this.destroy();
      return;
    }
    this.#received = true;
    let extra: number;
    try {
      extra = this.#parser.execute(chunk);
    } catch (err) {
      // a protocol violation, or a handler that threw: either way this exchange is over
      if (this.exchange === ex) this.fail(err as Error);
      return;
    }
    if (this.#trailers !== null && this.exchange === ex) this.#settle(ex, extra === 0);
    else if (this.#held !== null) {
      const held = this.#held;
      this.#held = null;
      if (this.exchange === ex) ex.handler.onResponseData?.(ex, held);
    }
  }

  onHead(statusCode: number, headers: ResponseHeaders): void {
    const ex = this.exchange as H1Exchange;
    ex.handler.onResponseStart?.(ex, statusCode, headers, '');
  }

  onBody(chunk: Buffer): void {
    const held = this.#held;
    // a copy: `chunk` is a view of the shared read buffer, and the client response may queue what it is given
    this.#held = Buffer.from(chunk);
    if (held !== null) {
      const ex = this.exchange as H1Exchange;
      ex.handler.onResponseData?.(ex, held);
    }
  }

  onComplete(trailers: ResponseHeaders): void {
    this.#trailers = trailers;
  }

  /** The response is complete: free the connection (or drop it), then tell the handler. */
  #settle(ex: H1Exchange, nothingFollowed: boolean): void {
    const trailers = this.#trailers as ResponseHeaders;
    this.#trailers = null;
    const last = this.#held;
    this.#held = null;
    this.exchange = null;
    ex.connection = null;
    ex.done = true;
    this.served++;
    let reusable = nothingFollowed && this.#parser.keepAlive && !this.#writingBody && !this.socket.destroyed;
    if (reusable) reusable = this.#armIdleTimer();
    // an idle connection keeps reading, so that a close (or stray bytes) from the backend is seen at once
    if (reusable && this.socket.isPaused()) this.socket.resume();
    this.#pool.released(this, reusable);
    if (last === null) ex.handler.onResponseEnd?.(ex, trailers);
    else if (ex.handler.onResponseEnd === undefined) ex.handler.onResponseData?.(ex, last);
    else ex.handler.onResponseEnd(ex, trailers, last);
  }

  /** Arms the idle timer for the keep-alive period; false when the backend's period is too short to reuse. */
  #armIdleTimer(): boolean {
    let ms = this.#settings.keepAliveMs;
    const backendMs = this.#parser.keepAliveTimeoutMs;
    if (backendMs >= 0) ms = Math.min(ms, backendMs - KEEP_ALIVE_MARGIN_MS);
    if (ms <= 0) return false;
    if (this.#idleTimer !== undefined && this.#idleMs === ms) this.#idleTimer.refresh();
    else {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = setTimeout(onIdleTimeout, ms, this);
      this.#idleTimer.unref();
      this.#idleMs = ms;
    }
    return true;
  }

  /** Fails the current exchange with `err` and destroys the connection. */
  fail(err: Error): void {
    const ex = this.exchange;
    this.exchange = null;
    this.#held = null;
    this.#parser.halt();
    this.socket.destroy();
    if (ex !== null) {
      ex.connection = null;
      this.#pool.failed(ex, err);
    }
  }

  /** Drops the connection without reporting anything (an aborted exchange, an idle timeout, close()). */
  destroy(): void {
    const ex = this.exchange;
    this.exchange = null;
    this.#held = null;
    if (ex !== null) ex.connection = null;
    this.#parser.halt();
    this.socket.destroy();
  }

  closed(): void {
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#idleTimer);
    const ex = this.exchange;
    if (ex !== null) {
      let completed = false;
      if (this.socketError === undefined) {
        try {
          completed = this.#parser.finish(); // a close-delimited body ends here
        } catch (err) {
          this.exchange = null;
          ex.connection = null;
          this.#pool.failed(ex, err as Error);
          this.#pool.connectionClosed(this);
          return;
        }
      }
      if (completed && this.#trailers !== null) this.#settle(ex, false);
      else {
        this.exchange = null;
        ex.connection = null;
        const err =
          this.socketError ??
          new UpstreamClosedError([
            this.#received ? 'before the response was complete' : 'before any response',
          ]);
        // the keep-alive race: a reused connection the backend closed (cleanly: while idle, it thought)
        // before one byte of the answer. A reset (RST) is not that: it is a connection error the route's
        // retry policy counts as an attempt, so it is reported as it is.
        if (!this.#received && this.served > 0 && this.endedByPeer) this.#pool.staleConnection(ex, err);
        else this.#pool.failed(ex, err);
      }
    }
    this.#pool.connectionClosed(this);
  }
}
