// Filters through the real proxy: request and response header modifiers, redirects (the listener port is
// kept unless the scheme changes), URLRewrite (ReplacePrefixMatch "/prefix" → "/" gives "/three" and the
// query is kept verbatim; hostname), mirrors, filters on backendRefs and CORS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRoute } from '../../proxy/model/builders.ts';
import {
  echoServices,
  eventually,
  freePort,
  localGateway,
  request,
  startEcho,
  startTestProxy,
  stopAll,
  type EchoBackend,
  type TestProxy,
} from './proxy-harness.ts';

const NS = 'filters';
let main: EchoBackend, mirror: EchoBackend, other: EchoBackend;
let proxy: TestProxy;
let port: number;

beforeAll(async () => {
  [main, mirror, other] = await Promise.all([startEcho('main'), startEcho('mirror'), startEcho('other')]);
  port = await freePort();
  const to = [{ name: 'main', port: 80 }];
  proxy = await startTestProxy([
    ...localGateway(NS, port),
    ...echoServices(NS, [main, mirror, other]),
    httpRoute(NS, 'filters', {
      parentRefs: [{ name: 'gw' }],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/headers' } }],
          filters: [
            {
              type: 'RequestHeaderModifier',
              requestHeaderModifier: {
                set: [{ name: 'X-Set', value: 'set' }],
                add: [{ name: 'X-Add', value: 'added' }],
                remove: ['X-Remove'],
              },
            },
            {
              type: 'ResponseHeaderModifier',
              responseHeaderModifier: {
                set: [{ name: 'X-Resp-Set', value: 'proxy' }],
                add: [{ name: 'X-Resp-Add', value: 'more' }],
                remove: ['X-Resp-Remove'],
              },
            },
          ],
          backendRefs: to,
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/redirect-keep' } }],
          filters: [{ type: 'RequestRedirect', requestRedirect: { hostname: 'elsewhere.example' } }],
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/redirect-https' } }],
          filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 301 } }],
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/redirect-path' } }],
          filters: [
            {
              type: 'RequestRedirect',
              requestRedirect: {
                path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' },
                port: 9443,
                statusCode: 308,
              },
            },
          ],
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/prefix' } }],
          filters: [
            {
              type: 'URLRewrite',
              urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } },
            },
          ],
          backendRefs: to,
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/full' } }],
          filters: [
            {
              type: 'URLRewrite',
              urlRewrite: {
                hostname: 'rewritten.example',
                path: { type: 'ReplaceFullPath', replaceFullPath: '/replaced' },
              },
            },
          ],
          backendRefs: to,
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/mirror' } }],
          filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'mirror', port: 80 } } }],
          backendRefs: to,
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/per-backend' } }],
          backendRefs: [
            {
              name: 'other',
              port: 80,
              filters: [
                {
                  type: 'RequestHeaderModifier',
                  requestHeaderModifier: { set: [{ name: 'X-Backend', value: 'other' }] },
                },
              ],
            },
          ],
        },
        {
          // from files nothing validates this: the rule must answer 500 and the proxy keep going
          matches: [{ path: { type: 'PathPrefix', value: '/bad-header' } }],
          filters: [
            {
              type: 'ResponseHeaderModifier',
              responseHeaderModifier: { set: [{ name: 'X-Bad', value: 'a\r\nInjected: yes' }] },
            },
          ],
          backendRefs: to,
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/cors' } }],
          filters: [
            {
              type: 'CORS',
              cors: {
                allowOrigins: ['https://*.good.example'],
                allowMethods: ['GET', 'PUT'],
                allowHeaders: ['x-a'],
                exposeHeaders: ['x-b'],
                maxAge: 600,
                allowCredentials: true,
              },
            },
          ],
          backendRefs: to,
        },
      ],
    }),
  ]);
});

afterAll(() => stopAll(proxy, [main, mirror, other]));

describe('header modifiers', () => {
  it('set replaces case-insensitively, add appends, remove drops; other headers pass unchanged', async () => {
    const res = await request(port, '/headers', {
      headers: {
        'x-set': 'old',
        'X-Add': 'first',
        'X-Remove': 'gone',
        'x-keep': 'Keep Me',
        'x-echo-response-headers': 'x-resp-set:backend,X-Resp-Remove:r,x-resp-add:one',
      },
    });
    const h = res.echo!.headers;
    expect(h['x-set']).toBe('set');
    expect(h['x-add']).toBe('first, added');
    expect(h['x-remove']).toBeUndefined();
    expect(h['x-keep']).toBe('Keep Me');
    expect(res.headers['x-resp-set']).toBe('proxy');
    expect(res.headers['x-resp-add']).toBe('one, more');
    expect(res.headers['x-resp-remove']).toBeUndefined();
  });
});

describe('redirects', () => {
  it('without port or scheme, the Location keeps the listener port', async () => {
    const res = await request(port, '/redirect-keep/a?x=1');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`http://elsewhere.example:${port}/redirect-keep/a?x=1`);
  });
  it('a scheme change without port drops the old port', async () => {
    const res = await request(port, '/redirect-https/a', { host: 'site.example:8080' });
    expect(res.status).toBe(301);
    expect(res.headers.location).toBe('https://site.example/redirect-https/a');
  });
  it('path prefix replacement, explicit port, status code', async () => {
    const res = await request(port, '/redirect-path/x/y?q', { host: 'site.example' });
    expect(res.status).toBe(308);
    expect(res.headers.location).toBe('http://site.example:9443/new/x/y?q');
  });
});

describe('URLRewrite', () => {
  it('ReplacePrefixMatch /prefix → / on /prefix/three gives /three, query kept verbatim', async () => {
    expect((await request(port, '/prefix/three?a=%2F&b')).echo?.url).toBe('/three?a=%2F&b');
    expect((await request(port, '/prefix')).echo?.url).toBe('/');
    expect((await request(port, '/prefix/')).echo?.url).toBe('/');
  });
  it('ReplaceFullPath and hostname', async () => {
    const res = await request(port, '/full/a/b?k=v');
    expect(res.echo?.url).toBe('/replaced?k=v');
    expect(res.echo?.host).toBe('rewritten.example');
  });
});

describe('mirror', () => {
  it('the mirror gets a copy, the client gets the primary answer', async () => {
    const id = `id-${Date.now()}`;
    const res = await request(port, `/mirror?id=${id}`);
    expect(res.echo?.backend).toBe('main');
    await eventually(() => mirror.received.some((r) => r.url === `/mirror?id=${id}`));
  });
});

describe('backendRef filters', () => {
  it('apply to the chosen backend', async () => {
    const res = await request(port, '/per-backend');
    expect(res.echo?.backend).toBe('other');
    expect(res.echo?.headers['x-backend']).toBe('other');
  });
});

describe('CORS', () => {
  it('answers an allowed preflight itself', async () => {
    const before = main.received.length;
    const res = await request(port, '/cors', {
      method: 'OPTIONS',
      headers: {
        origin: 'https://a.b.good.example',
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'x-a',
      },
    });
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('https://a.b.good.example');
    expect(res.headers['access-control-allow-methods']).toBe('GET, PUT');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(main.received.length).toBe(before);
  });
  it('a disallowed origin gets no allow headers; actual requests are forwarded', async () => {
    const pre = await request(port, '/cors', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
    });
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    const ok = await request(port, '/cors', { headers: { origin: 'https://x.good.example' } });
    expect(ok.echo?.headers.origin).toBe('https://x.good.example');
    expect(ok.headers['access-control-allow-origin']).toBe('https://x.good.example');
    expect(ok.headers['access-control-expose-headers']).toBe('x-b');
  });
});

describe('invalid filters', () => {
  it('a header value with CR/LF makes the rule answer 500, never reaching the client or crashing', async () => {
    const res = await request(port, '/bad-header');
    expect(res.status).toBe(500);
    expect(res.headers.injected).toBeUndefined();
    expect((await request(port, '/headers')).status).toBe(200);
  });
});
