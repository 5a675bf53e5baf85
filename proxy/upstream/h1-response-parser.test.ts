import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ResponseHeaders } from './dispatcher.ts';
import { H1ResponseParser } from './h1-response-parser.ts';

interface Parsed {
  status?: number;
  headers?: ResponseHeaders;
  body: string;
  trailers?: ResponseHeaders;
  /** bytes after the end of the message */
  extra: number;
  keepAlive?: boolean;
  keepAliveTimeoutMs?: number;
  error?: string;
}

/** Feeds `pieces` in order, then (with `close`) signals the connection's close. */
function parse(
  pieces: Buffer[],
  opts: { head?: boolean; close?: boolean; maxHeaderBytes?: number } = {},
): Parsed {
  const out: Parsed = { body: '', extra: 0 };
  const parser = new H1ResponseParser(
    {
      onHead(status, headers) {
        out.status = status;
        out.headers = { ...headers };
        out.keepAlive = parser.keepAlive;
        out.keepAliveTimeoutMs = parser.keepAliveTimeoutMs;
      },
      onBody(chunk) {
        out.body += chunk.toString('latin1');
      },
      onComplete(trailers) {
        out.trailers = { ...trailers };
      },
    },
    opts.maxHeaderBytes ?? 16 * 1024,
  );
  parser.reset(opts.head ?? false);
  try {
    for (const p of pieces) {
      const extra = parser.execute(p);
      if (parser.complete) {
        out.extra += extra;
        break;
      }
    }
    if (opts.close && !parser.complete && !parser.finish()) out.error = 'truncated';
  } catch (err) {
    out.error = (err as { code?: string }).code + ': ' + (err as Error).message;
  }
  return out;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The same bytes split at every position must parse exactly like the whole. */
function expectSplitInvariant(raw: string, opts: { head?: boolean; close?: boolean } = {}): Parsed {
  const whole = parse([bytes(raw)], opts);
  for (let i = 1; i < raw.length; i++) {
    const split = parse([bytes(raw.slice(0, i)), bytes(raw.slice(i))], opts);
    expect(split, `split at ${i}`).toEqual(whole);
  }
  return whole;
}

const OK_CL =
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\n\r\nhello';
const OK_CHUNKED =
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nGrpc-Status: 0\r\n\r\n';

describe('H1ResponseParser: well-formed answers', () => {
  it('Content-Length body, lower-case names, repeated names as arrays', () => {
    const r = expectSplitInvariant(OK_CL);
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(200);
    expect(r.body).toBe('hello');
    expect(r.headers).toEqual({
      'content-type': 'text/plain',
      'content-length': '5',
      'set-cookie': ['a=1', 'b=2'],
    });
    expect(r.keepAlive).toBe(true);
    expect(r.trailers).toEqual({});
  });

  it('chunked body with extensions and trailers', () => {
    const r = expectSplitInvariant(OK_CHUNKED);
    expect(r.error).toBeUndefined();
    expect(r.body).toBe('helloabcdefghijklmnopqrstuvwxyz');
    expect(r.trailers).toEqual({ 'grpc-status': '0' });
    expect(r.keepAlive).toBe(true);
  });

  it('split into arbitrary pieces (property)', () => {
    for (const raw of [OK_CL, OK_CHUNKED]) {
      const whole = parse([bytes(raw)]);
      fc.assert(
        fc.property(
          fc.uniqueArray(fc.integer({ min: 1, max: raw.length - 1 }), { maxLength: 12 }),
          (cuts) => {
            const at = [0, ...cuts.sort((a, b) => a - b), raw.length];
            const pieces = at.slice(1).map((end, i) => bytes(raw.slice(at[i], end)));
            expect(parse(pieces)).toEqual(whole);
          },
        ),
      );
    }
  });

  it('no body for HEAD, 204 and 304, whatever the headers say', () => {
    expect(parse([bytes('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n')], { head: true })).toMatchObject({
      status: 200,
      body: '',
      trailers: {},
    });
    expect(parse([bytes('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n')])).toMatchObject({
      trailers: {},
    });
    expect(parse([bytes('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n')])).toMatchObject({
      trailers: {},
    });
  });

  it('1xx interim answers are skipped; the final answer follows', () => {
    const r = expectSplitInvariant(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
    );
    expect(r).toMatchObject({ status: 201, body: 'ok', headers: { 'content-length': '2' } });
  });

  it('no framing headers: the body runs to the close, and the connection is not reused', () => {
    const r = expectSplitInvariant('HTTP/1.1 200 OK\r\n\r\nall of it', { close: true });
    expect(r).toMatchObject({ body: 'all of it', keepAlive: false, trailers: {} });
  });

  it('a final coding other than chunked: the body runs to the close', () => {
    const r = parse([bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz')], { close: true });
    expect(r).toMatchObject({ body: 'zzz', keepAlive: false, trailers: {} });
  });

  it('HTTP/1.0 and Connection: close end the connection; Keep-Alive: timeout is read', () => {
    expect(parse([bytes('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')]).keepAlive).toBe(false);
    expect(
      parse([bytes('HTTP/1.1 200 OK\r\nConnection: Keep-Alive, Close\r\nContent-Length: 0\r\n\r\n')])
        .keepAlive,
    ).toBe(false);
    const r = parse([
      bytes('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 0\r\n\r\n'),
    ]);
    expect(r).toMatchObject({ keepAlive: true, keepAliveTimeoutMs: 5000 });
  });

  it('consumes the hop-by-hop fields it acts on; a Connection naming other fields is passed on', () => {
    const r = parse([
      bytes(
        'HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=9\r\nX-A: 1\r\nContent-Length: 0\r\n\r\n',
      ),
    ]);
    expect(r.headers).toEqual({ 'x-a': '1', 'content-length': '0' });
    const chunked = parse([bytes('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')]);
    expect(chunked.headers).toEqual({});
    const listed = parse([
      bytes('HTTP/1.1 200 OK\r\nConnection: close, X-Secret\r\nX-Secret: s\r\nContent-Length: 0\r\n\r\n'),
    ]);
    expect(listed.headers).toEqual({ connection: 'close, X-Secret', 'x-secret': 's', 'content-length': '0' });
    expect(listed.keepAlive).toBe(false);
  });

  it('names inherited from Object.prototype are plain header names', () => {
    const r = parse([
      bytes('HTTP/1.1 200 OK\r\nConstructor: x\r\n__proto__: y\r\ntoString: z\r\nContent-Length: 0\r\n\r\n'),
    ]);
    expect(r.error).toBeUndefined();
    expect(r.headers?.constructor).toBe('x');
    expect(Object.getOwnPropertyDescriptor(r.headers, '__proto__')?.value).toBe('y');
  });

  it('reports the bytes that follow a complete answer (the caller must not reuse the connection)', () => {
    const r = parse([bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n\r\n')]);
    expect(r.body).toBe('ok');
    expect(r.extra).toBe('HTTP/1.1 200 OK\r\n\r\n'.length);
  });

  it('a status line without a reason phrase', () => {
    expect(parse([bytes('HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n')])).toMatchObject({ status: 404 });
    expect(parse([bytes('HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n')])).toMatchObject({ status: 404 });
  });
});

describe('H1ResponseParser: refused', () => {
  const refused: [string, string, RegExp][] = [
    [
      'Content-Length with Transfer-Encoding',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      /both Transfer-Encoding and Content-Length/,
    ],
    [
      'Transfer-Encoding before Content-Length',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n',
      /both/,
    ],
    [
      'differing Content-Length lines',
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd',
      /differing/,
    ],
    ['differing Content-Length list', 'HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabcd', /differing/],
    ['negative Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /invalid Content-Length/],
    ['signed Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: +3\r\n\r\nabc', /invalid Content-Length/],
    [
      'overflowing Content-Length',
      'HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n',
      /invalid Content-Length/,
    ],
    ['hex Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n', /invalid Content-Length/],
    ['empty Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n', /invalid Content-Length/],
    ['chunked twice', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n', /after chunked/],
    [
      'a coding after chunked',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n',
      /after chunked/,
    ],
    [
      'empty Transfer-Encoding',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\n\r\n',
      /invalid Transfer-Encoding/,
    ],
    [
      'Transfer-Encoding in HTTP/1.0',
      'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      /HTTP\/1.0/,
    ],
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /chunk size missing/],
    [
      'negative chunk size',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n',
      /chunk size missing/,
    ],
    [
      'chunk size with junk',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5x\r\nhello\r\n',
      /invalid character in a chunk size/,
    ],
    [
      'huge chunk-size digits',
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${'0'.repeat(17)}5\r\n`,
      /longer than 16 hex digits/,
    ],
    [
      'overflowing chunk size',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n',
      /too large/,
    ],
    [
      'chunk data longer than its size',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n',
      /longer than its size/,
    ],
    [
      'chunk size line ended by LF',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n0\r\n\r\n',
      /invalid character in a chunk size/,
    ],
    [
      'chunk extension with a control character',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a=\x01\r\nab\r\n',
      /control character/,
    ],
    [
      'chunk extensions too long',
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;${'a'.repeat(2000)}\r\nab\r\n`,
      /extensions longer/,
    ],
    [
      'obs-fold',
      'HTTP/1.1 200 OK\r\nX-A: a\r\n  folded\r\nContent-Length: 0\r\n\r\n',
      /colon|invalid header name/,
    ],
    [
      'obs-fold with a colon',
      'HTTP/1.1 200 OK\r\nX-A: a\r\n b: c\r\nContent-Length: 0\r\n\r\n',
      /invalid header name/,
    ],
    [
      'NUL in a value',
      'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 0\r\n\r\n',
      /invalid character in the value of x-a/,
    ],
    [
      'bare CR in a value',
      'HTTP/1.1 200 OK\r\nX-A: a\rContent-Length: 5\r\nContent-Length: 0\r\n\r\n',
      /invalid character/,
    ],
    [
      'bare LF between lines',
      'HTTP/1.1 200 OK\r\nX-A: a\nContent-Length: 5\r\nContent-Length: 0\r\n\r\n',
      /invalid character/,
    ],
    ['space before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello', /invalid header name/],
    ['a line without a colon', 'HTTP/1.1 200 OK\r\nnonsense\r\n\r\n', /without a colon/],
    ['an empty name', 'HTTP/1.1 200 OK\r\n: v\r\n\r\n', /invalid header name/],
    ['HTTP/2 status line', 'HTTP/2 200 OK\r\n\r\n', /malformed status line/],
    ['HTTP/1.2', 'HTTP/1.2 200 OK\r\n\r\n', /malformed status line/],
    ['two-digit status', 'HTTP/1.1 99 OK\r\n\r\n', /malformed status line/],
    ['status below 100', 'HTTP/1.1 099 OK\r\n\r\n', /malformed status line/],
    ['lower-case protocol', 'http/1.1 200 OK\r\n\r\n', /malformed status line/],
    ['leading empty line', '\r\nHTTP/1.1 200 OK\r\n\r\n', /malformed status line/],
    ['101 on this path', 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n', /101/],
    [
      'a bare CR after the last chunk',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\rX',
      /bare CR/,
    ],
    [
      'trailer with NUL',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: \x00\r\n\r\n',
      /invalid character/,
    ],
  ];
  for (const [name, raw, why] of refused)
    it(name, () => {
      const whole = parse([bytes(raw)]);
      expect(whole.error).toMatch(/^TG_UPSTREAM_PROTOCOL: /);
      expect(whole.error).toMatch(why);
      // never a complete (successful) answer, however the bytes are split
      for (let i = 1; i < raw.length; i++) {
        const split = parse([bytes(raw.slice(0, i)), bytes(raw.slice(i))]);
        expect(split.error, `split at ${i}`).toBe(whole.error);
        expect(split.trailers).toBeUndefined();
      }
    });

  it('a header section larger than the bound, complete or not', () => {
    const big = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(2000)}\r\nContent-Length: 0\r\n\r\n`;
    expect(parse([bytes(big)], { maxHeaderBytes: 1024 }).error).toMatch(
      /header section larger than 1024 bytes/,
    );
    // never terminated: refused once the bound is passed, without waiting for the rest
    const pieces = Array.from({ length: 30 }, (_, i) =>
      bytes(i === 0 ? 'HTTP/1.1 200 OK\r\n' : `X-${i}: ${'b'.repeat(60)}\r\n`),
    );
    expect(parse(pieces, { maxHeaderBytes: 1024 }).error).toMatch(/larger than 1024/);
    // the trailer section has the same bound
    const trailers = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: ${'c'.repeat(2000)}\r\n\r\n`;
    expect(parse([bytes(trailers)], { maxHeaderBytes: 1024 }).error).toMatch(/larger than 1024/);
  });

  it('more than 16 interim answers', () => {
    expect(parse([bytes('HTTP/1.1 103 Early Hints\r\n\r\n'.repeat(17))]).error).toMatch(/interim/);
  });

  it('a close before the end is a truncation, never a success', () => {
    const cases = [
      'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', // no final chunk
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n', // no end of the trailer section
      'HTTP/1.1 200 OK\r\nContent-Le',
      'HTTP/1.1 100 Continue\r\n\r\n',
    ];
    for (const raw of cases) {
      const r = parse([bytes(raw)], { close: true });
      expect(r.error, raw).toBe('truncated');
      expect(r.trailers, raw).toBeUndefined();
    }
  });
});
