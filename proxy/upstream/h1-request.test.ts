import { describe, expect, it } from 'vitest';
import { declaredLength, requestHead } from './h1-request.ts';

describe('requestHead', () => {
  it('writes the request line, the headers in order, connection: keep-alive and the empty line', () => {
    expect(requestHead('GET', '/a?b=1', ['Host', 'example.com', 'X-Client', 'c'], 'backend:80', null)).toBe(
      'GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nX-Client: c\r\nconnection: keep-alive\r\n\r\n',
    );
  });

  it('adds the Host of the origin when the list has none', () => {
    expect(requestHead('GET', '/', [], '10.0.0.1:8080', null)).toContain('\r\nhost: 10.0.0.1:8080\r\n');
  });

  it('frames bodies: content-length 0 for bodiless POST, a Buffer length, chunked for an unsized stream', () => {
    expect(requestHead('POST', '/', ['host', 'h'], 'b', null)).toContain('\r\ncontent-length: 0\r\n');
    expect(requestHead('DELETE', '/', ['host', 'h'], 'b', null)).not.toContain('content-length');
    expect(requestHead('PUT', '/', ['host', 'h'], 'b', Buffer.from('abc'))).toContain(
      '\r\ncontent-length: 3\r\n',
    );
    expect(
      requestHead('PUT', '/', ['host', 'h', 'Content-Length', '3'], 'b', Buffer.from('abc')),
    ).not.toContain('content-length: 3');
    const stream = (async function* () {})();
    expect(requestHead('PUT', '/', ['host', 'h'], 'b', stream)).toContain(
      '\r\ntransfer-encoding: chunked\r\n',
    );
    const sized = requestHead('PUT', '/', ['host', 'h', 'content-length', '7'], 'b', stream);
    expect(sized).toContain('\r\ncontent-length: 7\r\n');
    expect(sized).not.toContain('transfer-encoding');
    expect(declaredLength(['host', 'h', 'Content-Length', '7'])).toBe(7);
    expect(declaredLength(['host', 'h'])).toBe(-1);
  });

  const refused: [string, () => string][] = [
    [
      'CR LF in a value (header injection)',
      () => requestHead('GET', '/', ['X-A', 'a\r\nX-Injected: 1'], 'b', null),
    ],
    ['LF in a value', () => requestHead('GET', '/', ['X-A', 'a\nb'], 'b', null)],
    ['NUL in a value', () => requestHead('GET', '/', ['X-A', 'a\0b'], 'b', null)],
    ['a character latin1 cannot carry', () => requestHead('GET', '/', ['X-A', 'snow ☃'], 'b', null)],
    ['a name with a space', () => requestHead('GET', '/', ['X A', 'v'], 'b', null)],
    ['a name with a colon', () => requestHead('GET', '/', ['X:A', 'v'], 'b', null)],
    ['an empty name', () => requestHead('GET', '/', ['', 'v'], 'b', null)],
    ['a space in the target', () => requestHead('GET', '/a b', [], 'b', null)],
    ['CRLF in the target', () => requestHead('GET', '/a\r\nX: y', [], 'b', null)],
    ['an absolute target', () => requestHead('GET', 'http://x/', [], 'b', null)],
    ['a method with a space', () => requestHead('GE T', '/', [], 'b', null)],
    ['CONNECT', () => requestHead('CONNECT', '/', [], 'b', null)],
    ['a Connection header', () => requestHead('GET', '/', ['Connection', 'close'], 'b', null)],
    [
      'a Transfer-Encoding header',
      () => requestHead('POST', '/', ['transfer-encoding', 'chunked'], 'b', null),
    ],
    ['an Upgrade header', () => requestHead('GET', '/', ['upgrade', 'websocket'], 'b', null)],
    ['two Host headers', () => requestHead('GET', '/', ['host', 'a', 'Host', 'b'], 'b', null)],
    ['a non-numeric Content-Length', () => requestHead('POST', '/', ['content-length', '-1'], 'b', null)],
    [
      'two Content-Length headers',
      () => requestHead('POST', '/', ['content-length', '1', 'content-length', '1'], 'b', null),
    ],
    [
      'a Content-Length other than the Buffer length',
      () => requestHead('POST', '/', ['content-length', '5'], 'b', Buffer.from('abc')),
    ],
  ];
  for (const [name, f] of refused)
    it(`refuses ${name}`, () => {
      expect(f).toThrow(expect.objectContaining({ code: 'TG_UPSTREAM_REQUEST' }));
    });
});
