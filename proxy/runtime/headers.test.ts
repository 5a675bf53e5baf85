import { describe, expect, it } from 'vitest';
import {
  cleanResponseHeaders,
  connectionTokens,
  modifyFlatHeaders,
  modifyResponseHeaders,
  upstreamHeaders,
} from './headers.ts';

const fwd = { clientIp: '10.0.0.1', proto: 'http' as const, host: 'example.com' };

describe('upstreamHeaders', () => {
  it('drops hop-by-hop headers and the names Connection lists, keeps the rest in order', () => {
    const raw = [
      'Host',
      'example.com',
      'Connection',
      'keep-alive, X-Secret',
      'Keep-Alive',
      '5',
      'X-Secret',
      's',
      'Transfer-Encoding',
      'chunked',
      'Accept',
      '*/*',
    ];
    const out = upstreamHeaders(raw, fwd, connectionTokens('keep-alive, X-Secret'));
    expect(out.slice(0, 4)).toEqual(['Host', 'example.com', 'Accept', '*/*']);
    expect(out).not.toContain('X-Secret');
  });
  it('appends to X-Forwarded-For and sets -Proto and -Host', () => {
    const out = upstreamHeaders(
      ['host', 'h', 'X-Forwarded-For', '1.2.3.4', 'X-Forwarded-Proto', 'https'],
      fwd,
      undefined,
    );
    expect(out).toEqual([
      'host',
      'example.com',
      'x-forwarded-for',
      '1.2.3.4, 10.0.0.1',
      'x-forwarded-proto',
      'http',
      'x-forwarded-host',
      'example.com',
    ]);
  });
  it('builds Host from the routed authority and keeps te: trailers', () => {
    const out = upstreamHeaders(
      [':method', 'POST', ':authority', 'grpc.local', 'te', 'trailers'],
      { ...fwd, host: 'grpc.local' },
      undefined,
    );
    expect(out.slice(0, 4)).toEqual(['te', 'trailers', 'host', 'grpc.local']);
  });
  it('replaces the Host the client sent with the authority routed by, in its place', () => {
    const out = upstreamHeaders(['Host', 'other.test', 'Accept', '*/*'], fwd, undefined);
    expect(out.slice(0, 4)).toEqual(['Host', 'example.com', 'Accept', '*/*']);
  });
});

describe('modifyFlatHeaders', () => {
  it('set replaces case-insensitively, add appends a line, remove drops every line', () => {
    const m = {
      set: [['x-set', 'X-Set', 'new'] as [string, string, string]],
      add: [['x-add', 'X-Add', 'two'] as [string, string, string]],
      remove: new Set(['x-remove']),
    };
    const out = modifyFlatHeaders(['x-SET', 'old', 'X-Add', 'one', 'X-Remove', 'a', 'x-remove', 'b'], m);
    expect(out).toEqual(['X-Add', 'one', 'X-Set', 'new', 'X-Add', 'two']);
  });
});

describe('response headers', () => {
  it('hop-by-hop headers are stripped and modifiers apply to lower-cased names', () => {
    const h = cleanResponseHeaders({
      connection: 'close',
      'transfer-encoding': 'chunked',
      'x-header-set': 'old',
      'x-header-remove': 'r',
      'content-type': 'text/plain',
    });
    modifyResponseHeaders(h, {
      set: [['x-header-set', 'X-Header-Set', 'header-set']],
      add: [['content-type', 'Content-Type', 'x']],
      remove: new Set(['x-header-remove']),
    });
    expect(h).toEqual({ 'x-header-set': 'header-set', 'content-type': ['text/plain', 'x'] });
  });
});
