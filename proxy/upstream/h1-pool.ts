// A keep-alive HTTP/1.1 connection pool for one backend endpoint: the proxy's upstream client on the
// HTTP/1.1 hot path (undici's Pool cost ~20 us of CPU per request more, see docs/proxy.md). Requests take
// the most recently freed idle connection, else a new one up to `connections`, else wait in FIFO order.
// One request per connection at a time (no pipelining). A request that meets the keep-alive race (a reused
// idle connection the backend closed cleanly before any response byte) is sent again, once, on a new
// connection when it can be replayed (no body or a buffered one); every other failure goes to the handler.
import type {
  RequestBody,
  UpstreamController,
  UpstreamDispatcher,
  UpstreamHandler,
  UpstreamRequest,
} from './dispatcher.ts';
import { H1Connection, type ConnectionSettings } from './h1-connection.ts';
import { isStreamBody, requestHead } from './h1-request.ts';
import { UpstreamPoolClosedError } from './errors.ts';

export interface H1PoolOptions {
  /** connections at most (requests beyond wait); default 128 */
  connections?: number;
  connectTimeoutMs?: number;
  /** how long an idle connection is kept; default 4 s */
  keepAliveMs?: number;
  /** a busy connection on which nothing moves for this long fails; default 300 s */
  silenceTimeoutMs?: number;
  /** status line and header fields, and the trailer section, each at most; default 16 KiB */
  maxHeaderBytes?: number;
}

const NO_CONTEXT = Object.freeze({});

/** One request through the pool; it is also the controller its handler gets. */
export class H1Exchange implements UpstreamController {
  readonly pool: H1Pool;
  readonly request: UpstreamRequest;
  readonly handler: UpstreamHandler;
  /** the serialised request head */
  head = '';
  connection: H1Connection | null = null;
  /** the handler has had its last callback (end or error) or is about to */
  done = false;
  /** sent again after the keep-alive race: must go on a new connection and not be retried again */
  fresh = false;
  #paused = false;
  #reason: Error | null = null;

  constructor(pool: H1Pool, request: UpstreamRequest, handler: UpstreamHandler) {
    this.pool = pool;
    this.request = request;
    this.handler = handler;
  }

  get aborted(): boolean {
    return this.#reason !== null;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get reason(): Error | null {
    return this.#reason;
  }

  abort(reason: Error): void {
    if (this.done) return;
    this.#reason = reason;
    this.pool.aborted(this, reason);
  }

  pause(): void {
    this.#paused = true;
    this.connection?.socket.pause();
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.connection?.socket.resume();
  }
}

function replayable(body: RequestBody): boolean {
  return !isStreamBody(body);
}

export class H1Pool implements UpstreamDispatcher {
  readonly #settings: ConnectionSettings;
  readonly #maxConnections: number;
  /** the Host sent when the request's header list has none */
  readonly #hostHeader: string;
  /** idle connections, most recently freed last */
  readonly #idle: H1Connection[] = [];
  readonly #queue: H1Exchange[] = [];
  #connections = 0;
  #closing: Promise<void> | null = null;
  #closed: (() => void) | null = null;

  constructor(origin: string, options: H1PoolOptions = {}) {
    const url = new URL(origin);
    if (url.protocol !== 'http:')
      throw new TypeError(`H1Pool speaks cleartext HTTP/1.1, not ${url.protocol}`);
    this.#hostHeader = url.host;
    this.#maxConnections = options.connections ?? 128;
    this.#settings = {
      host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port === '' ? 80 : Number(url.port),
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
      keepAliveMs: options.keepAliveMs ?? 4_000,
      silenceTimeoutMs: options.silenceTimeoutMs ?? 300_000,
      maxHeaderBytes: options.maxHeaderBytes ?? 16 * 1024,
    };
  }

  /** Open connections (busy, idle or connecting). */
  get connections(): number {
    return this.#connections;
  }

  get idleConnections(): number {
    return this.#idle.length;
  }

  dispatch(request: UpstreamRequest, handler: UpstreamHandler): boolean {
    const ex = new H1Exchange(this, request, handler);
    handler.onRequestStart?.(ex, NO_CONTEXT);
    if (ex.done) return true; // aborted from onRequestStart
    if (this.#closing !== null) {
      this.failed(ex, new UpstreamPoolClosedError());
      return false;
    }
    try {
      ex.head = requestHead(request.method, request.path, request.headers, this.#hostHeader, request.body);
    } catch (err) {
      this.failed(ex, err as Error);
      return true;
    }
    this.#assign(ex);
    return true;
  }

  #assign(ex: H1Exchange): void {
    const idle = this.#idle;
    while (idle.length !== 0) {
      const conn = idle.pop() as H1Connection;
      conn.idle = false;
      if (!conn.destroyed) {
        conn.start(ex);
        return;
      }
    }
    if (this.#connections < this.#maxConnections) this.#open(ex);
    else this.#queue.push(ex);
  }

  #open(ex: H1Exchange): void {
    this.#connections++;
    new H1Connection(this, this.#settings).start(ex);
  }

  /** A connection finished an exchange: it takes the next waiting request, goes idle, or is dropped. */
  released(conn: H1Connection, reusable: boolean): void {
    if (!reusable) {
      conn.destroy();
      return;
    }
    const next = this.#queue.shift();
    if (next !== undefined) conn.start(next);
    else if (this.#closing !== null) conn.destroy();
    else {
      conn.idle = true;
      this.#idle.push(conn);
    }
  }

  connectionClosed(conn: H1Connection): void {
    this.#connections--;
    if (conn.idle) {
      conn.idle = false;
      const i = this.#idle.indexOf(conn);
      if (i >= 0) this.#idle.splice(i, 1);
    }
    if (this.#queue.length !== 0 && this.#connections < this.#maxConnections)
      this.#open(this.#queue.shift() as H1Exchange);
    else if (this.#closed !== null && this.#connections === 0 && this.#queue.length === 0) this.#closed();
  }

  /** The keep-alive race: a reused connection failed before any response byte. */
  staleConnection(ex: H1Exchange, err: Error): void {
    if (ex.done || ex.fresh || !replayable(ex.request.body)) {
      this.failed(ex, err);
      return;
    }
    // a new connection even at the cap: the failed one is on its way out and this happens once per request
    ex.fresh = true;
    this.#open(ex);
  }

  failed(ex: H1Exchange, err: Error): void {
    if (ex.done) return;
    ex.done = true;
    ex.handler.onResponseError?.(ex, err);
  }

  aborted(ex: H1Exchange, reason: Error): void {
    const conn = ex.connection;
    if (conn !== null) conn.destroy();
    else {
      const i = this.#queue.indexOf(ex);
      if (i >= 0) this.#queue.splice(i, 1);
    }
    this.failed(ex, reason);
  }

  close(): Promise<void> {
    if (this.#closing === null)
      this.#closing = new Promise<void>((resolve) => {
        this.#closed = resolve;
      });
    for (const conn of this.#idle.splice(0)) {
      conn.idle = false;
      conn.destroy();
    }
    if (this.#connections === 0 && this.#queue.length === 0) this.#closed?.();
    return this.#closing;
  }
}
