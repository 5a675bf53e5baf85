// The listening side: one server per bind (address + served port). Plain binds speak HTTP/1.1 and h2c
// with prior knowledge (the first bytes tell which); TLS binds speak HTTP/2 and HTTP/1.1 by ALPN and pick
// the certificate by SNI. A server survives route-table swaps (only its `current` bind changes), so a
// reload keeps every connection; a bind that disappears stops accepting and drains.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import { normalizeHost } from '../analysis/hostnames.ts';
import { selectListener } from '../table/match.ts';
import type { CompiledBind, RouteTable } from '../table/types.ts';
import { activeConnections } from './metrics.ts';
import { handleRequest, logRefusal, type PipelineDeps } from './pipeline.ts';
import { replyText, type ClientResponse } from './replies.ts';
import { SERVED_METHODS, type ClientRequest } from './route-request.ts';
import { handleUpgrade } from './websocket.ts';

export interface ServerLimits {
  maxHeaderSize: number;
  /** time a client has to send the request headers (slowloris guard) */
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** how long a removed bind lets its open connections finish */
  drainMs: number;
  /**
   * Workers: every worker listens on the same ports with SO_REUSEPORT and the kernel spreads connections
   * (Linux); `exclusive` keeps the cluster module from routing the listen through the primary.
   */
  reusePort?: boolean;
}

/**
 * Which requests take the upgrade path (websocket.ts): any Upgrade but h2c, which this server does not
 * speak over HTTP/1.1 (RFC 9113 dropped it); such a request is served as an ordinary one, its Upgrade
 * header removed like every hop-by-hop header.
 */
const wantsUpgrade = (req: http.IncomingMessage): boolean => {
  const upgrade = req.headers.upgrade;
  return upgrade !== undefined && upgrade.trim().toLowerCase() !== 'h2c';
};

const PARSER_ERROR_STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  431: 'Request Header Fields Too Large',
};

class BindServer {
  readonly key: string;
  readonly tls: boolean;
  current: CompiledBind;
  readonly #sockets = new Set<Duplex>();
  readonly #sessions = new Set<http2.Http2Session>();
  readonly #deps: PipelineDeps;
  readonly #limits: ServerLimits;
  #server: net.Server | undefined;
  #http1: http.Server | undefined;
  #h2c: http2.Http2Server | undefined;
  #defaultPems: { cert: string[]; key: string[] } | undefined;

  constructor(bind: CompiledBind, deps: PipelineDeps, limits: ServerLimits) {
    this.key = bind.key;
    this.tls = bind.tls;
    this.current = bind;
    this.#deps = deps;
    this.#limits = limits;
  }

  #onRequest = (req: ClientRequest, res: unknown): void => {
    try {
      handleRequest(req, res as ClientResponse, this.current, this.#deps);
    } catch (err) {
      // a bug or a header value Node refuses must cost one request, never the process
      this.#deps.log.error('request failed', { err });
      const r = res as ClientResponse;
      if (r.headersSent) r.destroy();
      else replyText(r, 500, 'internal proxy error');
    }
  };

  #onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    try {
      handleUpgrade(req, socket, head, this.current, this.#deps);
    } catch (err) {
      this.#deps.log.error('upgrade failed', { err });
      socket.destroy();
    }
  };

  /**
   * CONNECT is not a tunnel this proxy opens: 405. On HTTP/1.1 Node hands over the socket (answered and
   * closed), on HTTP/2 the stream's response.
   */
  #onConnect = (req: ClientRequest, socket: Duplex | ClientResponse): void => {
    const message = 'CONNECT is not served by this proxy';
    logRefusal(this.#deps, req, { status: 405, rule: 'method.connect', message, grpc: false });
    if (req.httpVersionMajor === 2) {
      return replyText(socket as ClientResponse, 405, message, { allow: SERVED_METHODS });
    }
    socket.on('error', () => socket.destroy());
    (socket as Duplex).end(
      `HTTP/1.1 405 Method Not Allowed\r\nallow: ${SERVED_METHODS}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${message.length + 1}\r\nconnection: close\r\n\r\n${message}\n`,
    );
  };

  /**
   * A request Node's HTTP/1.1 parser refuses (a control character in the target, a malformed header line,
   * headers too large, too slow): answered as Node would (400, 431, 408) and logged at debug, naming the
   * parser's code as the rule.
   */
  #onClientError = (err: NodeJS.ErrnoException, socket: Duplex): void => {
    const code = err.code ?? 'unknown';
    if (this.#deps.log.isDebugEnabled() && code !== 'ECONNRESET')
      this.#deps.log.debug('request not parsed', { rule: `http.${code}`, reason: err.message });
    const s = socket as Duplex & { bytesWritten?: number };
    if (s.writable && !s.bytesWritten && code !== 'ECONNRESET') {
      const status = PARSER_ERROR_STATUS[code] ?? 400;
      s.write(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    }
    socket.destroy(err);
  };

  #track(socket: Duplex): void {
    this.#sockets.add(socket);
    activeConnections.inc();
    socket.once('close', () => {
      this.#sockets.delete(socket);
      activeConnections.dec();
    });
  }

  #trackSession = (session: http2.Http2Session): void => {
    this.#sessions.add(session);
    session.once('close', () => this.#sessions.delete(session));
  };

  #configureHttp1(server: http.Server | http2.Http2SecureServer): void {
    const s = server as http.Server & { connectionsCheckingInterval: number };
    s.headersTimeout = this.#limits.headersTimeoutMs;
    s.connectionsCheckingInterval = Math.min(1000, this.#limits.headersTimeoutMs);
    s.requestTimeout = 0; // bodies may stream for long; route timeouts bound the exchange instead
    s.keepAliveTimeout = this.#limits.keepAliveTimeoutMs;
  }

  #plainServer(): net.Server {
    const http1 = http.createServer({
      maxHeaderSize: this.#limits.maxHeaderSize,
      shouldUpgradeCallback: wantsUpgrade,
      // a request without Host is refused by the pipeline (with the others of its kind, and logged)
      requireHostHeader: false,
      // how often Node checks headersTimeout; its 30 s default would let a slow client hold a socket that long
      connectionsCheckingInterval: Math.min(1000, this.#limits.headersTimeoutMs),
      // a request without Content-Length or Transfer-Encoding has no body (RFC 9112 §6.3): Node then hands it
      // already ended, skipping the body stream's life cycle (end, dump, destroy, close: a handful of
      // process.nextTick rounds per request). The pipeline reads a body only when those headers say there is
      // one (hasBody), so it never waited on that stream.
      optimizeEmptyRequests: true,
    });
    this.#configureHttp1(http1);
    http1.on('request', this.#onRequest);
    http1.on('upgrade', this.#onUpgrade);
    http1.on('connect', this.#onConnect);
    http1.on('clientError', this.#onClientError);
    const h2c = http2.createServer({ settings: { maxHeaderListSize: this.#limits.maxHeaderSize } });
    h2c.on('request', this.#onRequest);
    h2c.on('connect', this.#onConnect);
    h2c.on('session', this.#trackSession);
    this.#http1 = http1;
    this.#h2c = h2c;
    return net.createServer({ noDelay: true }, (socket) => {
      this.#track(socket);
      socket.on('error', () => socket.destroy());
      // h2c with prior knowledge starts with the HTTP/2 preface "PRI * HTTP/2.0"
      socket.once('readable', () => {
        const chunk = socket.read() as Buffer | null;
        if (chunk === null) return void socket.destroy();
        socket.unshift(chunk);
        if (chunk.length >= 3 && chunk[0] === 0x50 && chunk[1] === 0x52 && chunk[2] === 0x49)
          h2c.emit('connection', socket);
        else http1.emit('connection', socket);
      });
    });
  }

  #tlsServer(): net.Server {
    // requireHostHeader and optimizeEmptyRequests reach the HTTP/1.1 fallback (Node's types do not list
    // them; both as in #plainServer); shouldUpgradeCallback does not, so here every Upgrade (h2c too) takes
    // the upgrade path, where only a 101 joins the sockets
    const options: http2.SecureServerOptions & {
      requireHostHeader: boolean;
      optimizeEmptyRequests: boolean;
    } = {
      allowHTTP1: true,
      requireHostHeader: false,
      optimizeEmptyRequests: true,
      settings: { maxHeaderListSize: this.#limits.maxHeaderSize },
      SNICallback: (servername, cb) => cb(null, this.#contextFor(servername)),
    };
    const server = http2.createSecureServer(options);
    this.#configureHttp1(server);
    server.on('request', this.#onRequest);
    server.on('upgrade', this.#onUpgrade);
    server.on('connect', this.#onConnect);
    server.on('clientError', this.#onClientError);
    server.on('session', this.#trackSession);
    server.on('secureConnection', (socket) => this.#track(socket));
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    this.#applyDefaultContext(server);
    return server;
  }

  #contextFor(servername: string): SecureContext | undefined {
    const bind = this.current;
    const listener =
      selectListener(bind.listeners, normalizeHost(servername)) ??
      bind.listeners.find((l) => !l.hostname) ??
      bind.listeners[0];
    return listener?.secureContext;
  }

  /** Clients without SNI get the certificate of the catch-all listener, else of the first one. */
  #applyDefaultContext(server: http2.Http2SecureServer): void {
    const l = this.current.listeners.find((x) => !x.hostname) ?? this.current.listeners[0];
    if (l?.tlsPems && l.tlsPems !== this.#defaultPems) {
      server.setSecureContext(l.tlsPems);
      this.#defaultPems = l.tlsPems;
    }
  }

  async listen(): Promise<void> {
    const server = this.tls ? this.#tlsServer() : this.#plainServer();
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const shared = this.#limits.reusePort ? { reusePort: true, exclusive: true } : {};
      server.listen({ host: this.current.address, port: this.current.port, backlog: 4096, ...shared }, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#deps.log.error('listener error', { bind: this.key, err }));
    // The HTTP/1.1 server never listens itself (it gets sockets from the sniffing net server), but its
    // connection bookkeeping — headersTimeout checks, closeIdleConnections — starts on 'listening'.
    this.#http1?.emit('listening');
  }

  update(bind: CompiledBind): void {
    this.current = bind;
    if (this.tls && this.#server) this.#applyDefaultContext(this.#server as http2.Http2SecureServer);
  }

  /** Stop accepting; let open exchanges finish (idle keep-alive connections close now), then cut. */
  async close(drainMs: number): Promise<void> {
    const server = this.#server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.#http1?.closeIdleConnections();
    (server as unknown as http.Server).closeIdleConnections?.();
    for (const s of this.#sessions) s.close();
    const deadline = Date.now() + drainMs;
    while (this.#sockets.size && Date.now() < deadline) {
      this.#http1?.closeIdleConnections();
      (server as unknown as http.Server).closeIdleConnections?.();
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const s of this.#sockets) s.destroy();
    for (const s of this.#sessions) s.destroy();
    // stops the HTTP/1.1 server's connection checks (it reports "not running": it never listened)
    this.#http1?.close(() => undefined);
    await closed;
  }
}

export interface BindError {
  key: string;
  message: string;
}

export class ServerSet {
  readonly #servers = new Map<string, BindServer>();
  readonly #deps: PipelineDeps;
  readonly #limits: ServerLimits;
  #errors: BindError[] = [];

  constructor(deps: PipelineDeps, limits: ServerLimits) {
    this.#deps = deps;
    this.#limits = limits;
  }

  get errors(): readonly BindError[] {
    return this.#errors;
  }

  /** The binds being served, "address|port". */
  get keys(): string[] {
    return [...this.#servers.keys()];
  }

  /** Makes the served binds match the table: new ones listen, kept ones switch table, gone ones drain. */
  async apply(table: RouteTable): Promise<void> {
    const errors: BindError[] = [];
    const closing: Promise<void>[] = [];
    for (const [key, server] of this.#servers) {
      const next = table.binds.get(key);
      if (next && next.tls === server.tls) server.update(next);
      else {
        this.#servers.delete(key);
        closing.push(server.close(next ? 0 : this.#limits.drainMs));
      }
    }
    // a bind that changes between TLS and plain must release its port before the new server takes it
    if (closing.length) await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 100))]);
    for (const [key, bind] of table.binds) {
      if (this.#servers.has(key)) continue;
      const server = new BindServer(bind, this.#deps, this.#limits);
      try {
        await server.listen();
        this.#servers.set(key, server);
      } catch (err) {
        errors.push({ key, message: (err as Error).message });
        this.#deps.log.error('cannot listen', {
          bind: `${bind.address}:${bind.port}`,
          err: (err as Error).message,
        });
      }
    }
    this.#errors = errors;
  }

  async close(drainMs = this.#limits.drainMs): Promise<void> {
    const all = [...this.#servers.values()];
    this.#servers.clear();
    await Promise.all(all.map((s) => s.close(drainMs)));
  }
}
