// H1Pool against real `net` servers written here, answering with raw bytes.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResponseHeaders, UpstreamController, UpstreamHandler, UpstreamRequest } from './dispatcher.ts';
import { H1Pool, type H1PoolOptions } from './h1-pool.ts';

interface Received {
  head: string;
  body: Buffer;
  socket: Socket;
  /** 0 for the first request on its connection */
  onConnection: number;
  connection: number;
}

/** A raw HTTP/1.1 server: splits requests (Content-Length or chunked bodies) and lets the test answer. */
class RawBackend {
  readonly server: Server;
  readonly requests: Received[] = [];
  readonly sockets: Socket[] = [];
  closedSockets = 0;
  onRequest: (r: Received) => void = (r) => r.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');

  constructor() {
    this.server = createServer((socket) => {
      const connection = this.sockets.length;
      this.sockets.push(socket);
      let buf = Buffer.alloc(0);
      let n = 0;
      socket.on('close', () => this.closedSockets++);
      socket.on('error', () => undefined);
      socket.on('data', (chunk) => {
        buf = Buffer.concat([buf, chunk]);
        for (;;) {
          const end = buf.indexOf('\r\n\r\n');
          if (end < 0) return;
          const head = buf.toString('latin1', 0, end);
          let rest = buf.subarray(end + 4);
          let body: Buffer;
          const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
          if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
            const fin = rest.indexOf('0\r\n\r\n');
            if (fin < 0) return;
            body = Buffer.from(
              rest
                .toString('latin1', 0, fin)
                .split('\r\n')
                .filter((_, i) => i % 2 === 1)
                .join(''),
              'latin1',
            );
            rest = rest.subarray(fin + 5);
          } else {
            const len = cl ? Number(cl[1]) : 0;
            if (rest.length < len) return;
            body = rest.subarray(0, len);
            rest = rest.subarray(len);
          }
          buf = rest;
          const r = { head, body, socket, onConnection: n++, connection };
          this.requests.push(r);
          this.onRequest(r);
        }
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }
}

interface Result {
  status?: number;
  headers?: ResponseHeaders;
  body: string;
  trailers?: ResponseHeaders;
  error?: Error & { code?: string };
  /** body reads handed as data, and whether the last bytes came with the end */
  dataCalls?: number;
  lastWithEnd?: boolean;
}

/** A handler recording everything; `hooks` may act on the controller. */
function collect(hooks: { onData?: (c: UpstreamController, chunk: Buffer, r: Result) => void } = {}): {
  handler: UpstreamHandler;
  done: Promise<Result>;
  result: Result;
} {
  const result: Result = { body: '' };
  let settle!: (r: Result) => void;
  const done = new Promise<Result>((resolve) => (settle = resolve));
  const handler: UpstreamHandler = {
    onResponseStart(_c, status, headers) {
      result.status = status;
      result.headers = headers;
    },
    onResponseData(c, chunk) {
      result.body += chunk.toString('latin1');
      result.dataCalls = (result.dataCalls ?? 0) + 1;
      hooks.onData?.(c, chunk, result);
    },
    onResponseEnd(_c, trailers, lastChunk) {
      if (lastChunk !== undefined) result.body += lastChunk.toString('latin1');
      result.lastWithEnd = lastChunk !== undefined;
      result.trailers = trailers;
      settle(result);
    },
    onResponseError(_c, err) {
      result.error = err;
      settle(result);
    },
  };
  return { handler, done, result };
}

function send(pool: H1Pool, request: Partial<UpstreamRequest> = {}): Promise<Result> {
  const { handler, done } = collect();
  pool.dispatch({ method: 'GET', path: '/', headers: ['host', 'h'], body: null, ...request }, handler);
  return done;
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0)) await f();
});

async function setup(options: H1PoolOptions = {}): Promise<{ backend: RawBackend; pool: H1Pool }> {
  const backend = new RawBackend();
  const origin = await backend.listen();
  const pool = new H1Pool(origin, options);
  cleanup.push(
    () => backend.close(),
    () => pool.close(),
  );
  return { backend, pool };
}

describe('H1Pool', () => {
  it('reuses a keep-alive connection and sends the request as written', async () => {
    const { backend, pool } = await setup();
    const a = await send(pool, { path: '/a?x=1', headers: ['Host', 'example.com', 'X-Client', 'c'] });
    expect(a).toMatchObject({ status: 200, body: 'ok', trailers: {} });
    expect(pool.idleConnections).toBe(1);
    const b = await send(pool, { path: '/b' });
    expect(b.body).toBe('ok');
    expect(backend.sockets).toHaveLength(1);
    expect(backend.requests[0]?.head).toBe(
      'GET /a?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Client: c\r\nconnection: keep-alive',
    );
    expect(backend.requests[1]?.onConnection).toBe(1);
  });

  it('queues beyond the connection limit and serves in order', async () => {
    const { backend, pool } = await setup({ connections: 1 });
    const all = await Promise.all([
      send(pool, { path: '/1' }),
      send(pool, { path: '/2' }),
      send(pool, { path: '/3' }),
    ]);
    expect(all.map((r) => r.body)).toEqual(['ok', 'ok', 'ok']);
    expect(backend.sockets).toHaveLength(1);
    expect(backend.requests.map((r) => r.head.split(' ')[1])).toEqual(['/1', '/2', '/3']);
  });

  it('Connection: close from the backend: the next request gets a new connection', async () => {
    const { backend, pool } = await setup();
    backend.onRequest = (r) =>
      r.socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok');
    expect((await send(pool)).body).toBe('ok');
    expect(pool.idleConnections).toBe(0);
    expect((await send(pool)).body).toBe('ok');
    expect(backend.sockets).toHaveLength(2);
  });

  it('a backend Keep-Alive: timeout too short for the margin: not reused', async () => {
    const { backend, pool } = await setup();
    backend.onRequest = (r) =>
      r.socket.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 2\r\n\r\nok');
    await send(pool);
    await send(pool);
    expect(backend.sockets).toHaveLength(2);
  });

  it('closes idle connections after the keep-alive period', async () => {
    const { backend, pool } = await setup({ keepAliveMs: 50 });
    await send(pool);
    expect(pool.idleConnections).toBe(1);
    await until(() => backend.closedSockets === 1 && pool.connections === 0, 'the idle connection closed');
    expect((await send(pool)).body).toBe('ok');
    expect(backend.sockets).toHaveLength(2);
  });

  it('forgets an idle connection the backend closes', async () => {
    const { backend, pool } = await setup();
    await send(pool);
    backend.sockets[0]?.end();
    await until(() => pool.connections === 0, 'the pool saw the close');
    expect((await send(pool)).body).toBe('ok');
  });

  it('the keep-alive race: a reused connection closed before any response byte is retried once, fresh', async () => {
    const { backend, pool } = await setup();
    await send(pool);
    // the backend closes the reused connection (FIN) on the next request without answering, as if its
    // idle timeout had fired just before the request arrived
    backend.onRequest = (r) => {
      if (r.onConnection > 0) r.socket.destroy();
      else r.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh');
    };
    const r = await send(pool, { method: 'POST', body: Buffer.from('payload') });
    expect(r).toMatchObject({ status: 200, body: 'fresh' });
    expect(backend.sockets).toHaveLength(2);
    expect(backend.requests.at(-1)?.body.toString()).toBe('payload');
  });

  it('a reset (RST) of a reused connection is not the race: reported, for the route retry policy to count', async () => {
    const { backend, pool } = await setup();
    await send(pool);
    backend.onRequest = (r) => {
      if (r.onConnection > 0) r.socket.resetAndDestroy();
      else r.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfresh');
    };
    const r = await send(pool);
    expect(r.error?.code).toBe('ECONNRESET');
    expect(backend.sockets).toHaveLength(1);
  });

  it('the keep-alive race with a streamed body: not replayable, the failure is reported', async () => {
    const { backend, pool } = await setup();
    await send(pool);
    backend.onRequest = (r) => r.socket.destroy();
    const body = (async function* () {
      yield Buffer.from('x');
    })();
    const r = await send(pool, { method: 'POST', body });
    expect(r.error?.code).toBe('TG_UPSTREAM_CLOSED');
  });

  it('a fresh connection closed before any response byte is not retried', async () => {
    const { backend, pool } = await setup();
    backend.onRequest = (r) => r.socket.destroy();
    const r = await send(pool);
    expect(r.error?.code).toMatch(/^(TG_UPSTREAM_CLOSED|ECONNRESET)$/);
    expect(backend.sockets).toHaveLength(1);
  });

  it('hands a body that ends in the same read to the end (one write), and streams one that does not', async () => {
    const { backend, pool } = await setup();
    backend.onRequest = (r) => r.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n');
    const whole = await send(pool);
    expect(whole).toMatchObject({ status: 200, body: 'ok\n', lastWithEnd: true });
    expect(whole.dataCalls).toBeUndefined();

    // the first bytes arrive alone: they are handed over at once, not held until the rest comes
    let rest: (() => void) | undefined;
    backend.onRequest = (r) => {
      r.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nfir');
      rest = () => r.socket.write('st\n');
    };
    const { handler, done, result } = collect();
    pool.dispatch({ method: 'GET', path: '/', headers: ['host', 'h'], body: null }, handler);
    await until(() => result.body === 'fir', 'the first bytes handed over before the rest was sent');
    rest!();
    expect(await done).toMatchObject({ body: 'first\n', dataCalls: 1, lastWithEnd: true });
  });

  it('every read lands in one shared buffer: a split head and the body bytes handed on survive later reads', async () => {
    const { backend, pool } = await setup();
    let next: (() => void)[] = [];
    backend.onRequest = (r) => {
      // the head split mid-name; then the body's first bytes alone; then more bytes than those, which land
      // at the start of the same read buffer, where the earlier ones were read
      r.socket.write('HTTP/1.1 200 OK\r\nContent-Le');
      next = [
        () => r.socket.write('ngth: 1004\r\nX-Mark: kept\r\n\r\n'),
        () => r.socket.write('AAAA'),
        () => r.socket.write('B'.repeat(1000)),
      ];
    };
    const kept: Buffer[] = [];
    const { handler, done, result } = collect({ onData: (_c, chunk) => kept.push(chunk) });
    pool.dispatch({ method: 'GET', path: '/', headers: ['host', 'h'], body: null }, handler);
    await until(() => backend.requests.length === 1, 'the request reached the backend');
    // the backend's writes are separate reads only if each is read before the next is sent
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    next[0]!();
    await until(() => result.status === 200, 'the head parsed');
    next[1]!();
    await until(() => result.body === 'AAAA', 'the first body bytes handed over');
    next[2]!();
    const r = await done;
    expect(r).toMatchObject({ status: 200, body: 'AAAA' + 'B'.repeat(1000) });
    expect(r.headers?.['x-mark']).toBe('kept');
    // the Buffer handed on earlier (a client response may still queue it) still holds its own bytes
    expect(kept[0]?.toString('latin1')).toBe('AAAA');
  });

  it('backpressure: pause stops reading, resume continues', async () => {
    const { backend, pool } = await setup();
    // more than loopback socket buffers hold, written at once: the backend can only drain it to a reader
    const size = 48 * 1024 * 1024;
    let backendSocket: Socket | undefined;
    backend.onRequest = (r) => {
      backendSocket = r.socket;
      r.socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
      r.socket.write(Buffer.alloc(size, 'x'));
    };
    let controller: UpstreamController | undefined;
    let chunksWhilePaused = 0;
    const { handler, done, result } = collect({
      onData: (c) => {
        if (controller === undefined) {
          controller = c;
          c.pause();
        } else if (c.paused) chunksWhilePaused++;
      },
    });
    pool.dispatch({ method: 'GET', path: '/', headers: ['host', 'h'], body: null }, handler);
    await until(
      () => controller !== undefined && (backendSocket?.writableLength ?? 0) > 0,
      'the backend blocked',
    );
    // event-loop turns in which a flowing socket would read what the kernel holds for it
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(controller?.paused).toBe(true);
    expect(chunksWhilePaused).toBe(0);
    expect(result.body.length).toBeLessThan(size);
    controller?.resume();
    const r = await done;
    expect(r.error).toBeUndefined();
    expect(r.body.length).toBe(size);
  });

  it('abort mid-body: the handler gets the reason, the connection is dropped, the pool goes on', async () => {
    const { backend, pool } = await setup();
    backend.onRequest = (r) => {
      if (r.connection === 0) r.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart');
      else r.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    };
    const reason = new Error('client went away');
    const { handler, done } = collect({ onData: (c) => c.abort(reason) });
    pool.dispatch({ method: 'GET', path: '/', headers: ['host', 'h'], body: null }, handler);
    const r = await done;
    expect(r.error).toBe(reason);
    await until(() => backend.closedSockets === 1, 'the backend saw the connection close');
    expect((await send(pool)).body).toBe('ok');
  });

  it('connect refused: ECONNREFUSED', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const pool = new H1Pool(`http://127.0.0.1:${port}`);
    cleanup.push(() => pool.close());
    const r = await send(pool);
    expect(r.error?.code).toBe('ECONNREFUSED');
    expect(pool.connections).toBe(0);
  });

  it('bytes after a complete answer: delivered nothing of them, the connection is not reused', async () => {
    const { backend, pool } = await setup();
    backend.onRequest = (r) => {
      if (r.connection === 0)
        r.socket.write(
          'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled',
        );
      else r.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhonest');
    };
    expect((await send(pool)).body).toBe('ok');
    expect((await send(pool)).body).toBe('honest');
    expect(backend.sockets).toHaveLength(2);
  });

  it('bytes arriving on an idle connection: dropped, never given to the next request', async () => {
    const { backend, pool } = await setup();
    await send(pool);
    backend.sockets[0]?.write('HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled');
    await until(() => pool.connections === 0, 'the pool dropped the connection');
    expect((await send(pool)).body).toBe('ok');
  });

  it('a protocol violation fails the exchange and destroys the connection', async () => {
    const { backend, pool } = await setup();
    backend.onRequest = (r) =>
      r.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    const r = await send(pool);
    expect(r.error?.code).toBe('TG_UPSTREAM_PROTOCOL');
    expect(r.status).toBeUndefined();
    await until(() => backend.closedSockets === 1, 'the connection destroyed');
  });

  it('a close in the middle of the body is an error, not an end', async () => {
    const { backend, pool } = await setup();
    backend.onRequest = (r) => r.socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort');
    const r = await send(pool);
    expect(r.status).toBe(200);
    expect(r.trailers).toBeUndefined();
    expect(r.error?.code).toBe('TG_UPSTREAM_CLOSED');
  });

  it('a close-delimited body ends at the close', async () => {
    const { backend, pool } = await setup();
    backend.onRequest = (r) => r.socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
    const r = await send(pool);
    expect(r).toMatchObject({ status: 200, body: 'until the end', trailers: {} });
  });

  it('a chunked answer with trailers', async () => {
    const { backend, pool } = await setup();
    backend.onRequest = (r) =>
      r.socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n');
    const r = await send(pool);
    expect(r).toMatchObject({ body: 'abc', trailers: { 'x-t': '1' } });
    expect(pool.idleConnections).toBe(1);
  });

  it('streams a body: chunked without a length, as declared with one; a short body fails', async () => {
    const { backend, pool } = await setup();
    const gen = async function* (parts: string[]) {
      for (const p of parts) yield Buffer.from(p);
    };
    await send(pool, { method: 'POST', body: gen(['ab', 'cd']) });
    expect(backend.requests[0]?.head).toContain('transfer-encoding: chunked');
    expect(backend.requests[0]?.body.toString()).toBe('abcd');
    await send(pool, {
      method: 'POST',
      headers: ['host', 'h', 'content-length', '4'],
      body: gen(['ab', 'cd']),
    });
    expect(backend.requests[1]?.body.toString()).toBe('abcd');
    const short = await send(pool, {
      method: 'POST',
      headers: ['host', 'h', 'content-length', '9'],
      body: gen(['ab']),
    });
    expect(short.error?.code).toBe('TG_UPSTREAM_REQUEST');
  });

  it('a body source error becomes the exchange error (413 for an oversized body upstream of here)', async () => {
    const { pool } = await setup();
    const tooLarge = Object.assign(new Error('too large'), { code: 'TG_BODY_TOO_LARGE' });
    const body = (async function* () {
      yield Buffer.from('a');
      throw tooLarge;
    })();
    const r = await send(pool, { method: 'POST', body });
    expect(r.error).toBe(tooLarge);
  });

  it('an invalid request header: refused, nothing sent', async () => {
    const { backend, pool } = await setup();
    const r = await send(pool, { headers: ['host', 'h', 'X-A', 'a\r\nX-Injected: 1'] });
    expect(r.error?.code).toBe('TG_UPSTREAM_REQUEST');
    expect(backend.sockets).toHaveLength(0);
  });

  it('HEAD: no body read, the connection stays usable', async () => {
    const { backend, pool } = await setup();
    backend.onRequest = (r) =>
      r.socket.write(
        r.head.startsWith('HEAD')
          ? 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n'
          : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
      );
    expect(await send(pool, { method: 'HEAD' })).toMatchObject({ status: 200, body: '', trailers: {} });
    expect((await send(pool)).body).toBe('ok');
    expect(backend.sockets).toHaveLength(1);
  });

  it('close(): finishes the request in flight, then refuses new ones', async () => {
    const { backend, pool } = await setup();
    let answer: (() => void) | undefined;
    backend.onRequest = (r) => {
      answer = () => r.socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    };
    const inFlight = send(pool);
    await until(() => answer !== undefined, 'the request reached the backend');
    const closed = pool.close();
    const late = await send(pool);
    expect(late.error?.code).toBe('TG_UPSTREAM_POOL_CLOSED');
    answer?.();
    expect((await inFlight).body).toBe('ok');
    await closed;
    expect(pool.connections).toBe(0);
    await until(() => backend.closedSockets === 1, 'the backend saw the close');
  });
});
