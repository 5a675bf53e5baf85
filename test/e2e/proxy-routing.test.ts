// Routing through the real proxy to real backends: precedence across routes, PathPrefix segment-wise,
// HEAD vs GET, header and query matching, hostnames and listener isolation, allowedRoutes, 404.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateway, gatewayClass, httpListener, httpRoute, namespace } from '../../proxy/model/builders.ts';
import {
  echoServices,
  freePort,
  request,
  startEcho,
  startTestProxy,
  stopAll,
  type EchoBackend,
  type TestProxy,
} from './proxy-harness.ts';

const NS = 'routing';
let v1: EchoBackend, v2: EchoBackend, v3: EchoBackend;
let proxy: TestProxy;
let port: number;
let isolatedPort: number;

const to = (name: string) => [{ name, port: 80 }];

beforeAll(async () => {
  [v1, v2, v3] = await Promise.all([startEcho('v1'), startEcho('v2'), startEcho('v3')]);
  [port, isolatedPort] = [await freePort(), await freePort()];
  proxy = await startTestProxy(
    [
      gatewayClass(),
      namespace(NS),
      namespace('other', { team: 'blue' }),
      namespace('denied'),
      gateway(
        NS,
        'gw',
        [
          httpListener('http', port, {
            allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { team: 'blue' } } } },
          }),
        ],
        { addresses: ['127.0.0.1'] },
      ),
      gateway(
        NS,
        'iso',
        [
          httpListener('exact', isolatedPort, {
            hostname: 'abc.foo.example.com',
            allowedRoutes: { namespaces: { from: 'Same' } },
          }),
          httpListener('wild', isolatedPort, {
            hostname: '*.foo.example.com',
            allowedRoutes: { namespaces: { from: 'Same' } },
          }),
          httpListener('any', isolatedPort, { allowedRoutes: { namespaces: { from: 'Same' } } }),
        ],
        { addresses: ['127.0.0.1'] },
      ),
      ...echoServices('other', [v1, v2, v3]),
      ...echoServices('denied', [v1]),
      ...echoServices(NS, [v1, v2, v3]),
      httpRoute(
        'other',
        'older',
        {
          parentRefs: [{ name: 'gw', namespace: NS }],
          rules: [
            { matches: [{ path: { type: 'PathPrefix', value: '/v2' } }], backendRefs: to('v2') },
            { matches: [{ path: { type: 'Exact', value: '/exact' } }], backendRefs: to('v3') },
            {
              matches: [{ method: 'GET', path: { type: 'PathPrefix', value: '/get-only' } }],
              backendRefs: to('v2'),
            },
            { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: to('v1') },
          ],
        },
        { creationTimestamp: '2024-01-01T00:00:00Z' },
      ),
      httpRoute(
        'other',
        'newer',
        {
          parentRefs: [{ name: 'gw', namespace: NS }],
          rules: [
            { matches: [{ headers: [{ name: 'version', value: 'two' }] }], backendRefs: to('v2') },
            {
              matches: [
                {
                  headers: [
                    { name: 'version', value: 'two' },
                    { name: 'color', value: 'orange' },
                  ],
                },
              ],
              backendRefs: to('v3'),
            },
            { matches: [{ queryParams: [{ name: 'animal', value: 'whale' }] }], backendRefs: to('v3') },
            { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: to('v2') },
          ],
        },
        { creationTimestamp: '2025-01-01T00:00:00Z' },
      ),
      // same namespace as the Gateway but not selected by the listener's namespace selector
      httpRoute(NS, 'not-allowed', {
        parentRefs: [{ name: 'gw' }],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/not-allowed' } }], backendRefs: to('v3') },
        ],
      }),
      httpRoute('denied', 'denied', {
        parentRefs: [{ name: 'gw', namespace: NS }],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/denied' } }], backendRefs: to('v1') }],
      }),
      httpRoute(NS, 'iso-exact', {
        parentRefs: [{ name: 'iso', sectionName: 'exact' }],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/exact' } }], backendRefs: to('v1') }],
      }),
      httpRoute(NS, 'iso-wild', {
        parentRefs: [{ name: 'iso', sectionName: 'wild' }],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/wild' } }], backendRefs: to('v2') }],
      }),
      httpRoute(NS, 'iso-any', {
        parentRefs: [{ name: 'iso', sectionName: 'any' }],
        rules: [{ backendRefs: to('v3') }],
      }),
    ],
    { bindAddress: '127.0.0.1' },
  );
});

afterAll(() => stopAll(proxy, [v1, v2, v3]));

const backendOf = async (path: string, o: Parameters<typeof request>[2] = {}) => {
  const res = await request(port, path, o);
  return res.status === 200 ? res.echo?.backend : res.status;
};

describe('paths', () => {
  it('PathPrefix matches segment by segment', async () => {
    expect(await backendOf('/v2')).toBe('v2');
    expect(await backendOf('/v2/')).toBe('v2');
    expect(await backendOf('/v2/example')).toBe('v2');
    expect(await backendOf('/v2example')).toBe('v1');
  });
  it('Exact beats every prefix and is exact', async () => {
    expect(await backendOf('/exact')).toBe('v3');
    expect(await backendOf('/exact/')).toBe('v1');
  });
  it('forwards the normalised path and the query verbatim', async () => {
    const res = await request(port, '/some/%7Epath/%3a?b=2&a=1&a=%20&c=%7e');
    expect(res.echo?.url).toBe('/some/~path/%3A?b=2&a=1&a=%20&c=%7e');
  });
});

describe('precedence across routes', () => {
  it('the oldest route wins a tie', async () => {
    expect(await backendOf('/anything')).toBe('v1');
  });
  it('more header matches win, across routes', async () => {
    expect(await backendOf('/', { headers: { version: 'two' } })).toBe('v2');
    expect(await backendOf('/', { headers: { Version: 'two', color: 'orange' } })).toBe('v3');
  });
  it('header values are case-sensitive', async () => {
    expect(await backendOf('/', { headers: { version: 'Two' } })).toBe('v1');
  });
  it('query params: names and values exact, extra params ignored', async () => {
    expect(await backendOf('/?animal=whale&x=1')).toBe('v3');
    expect(await backendOf('/?ANIMAL=whale')).toBe('v1');
    expect(await backendOf('/?animal=whaledolphin')).toBe('v1');
  });
  it('a longer prefix beats header matches', async () => {
    expect(await backendOf('/v2/x', { headers: { version: 'two', color: 'orange' } })).toBe('v2');
  });
});

describe('methods', () => {
  it('HEAD does not match a GET rule', async () => {
    expect(await backendOf('/get-only')).toBe('v2');
    const head = await request(port, '/get-only', { method: 'HEAD' });
    expect(head.status).toBe(200);
    // answered by the catch-all rule (v1): the backend saw a HEAD
    expect(v1.received.at(-1)?.method).toBe('HEAD');
    expect(v1.received.at(-1)?.url).toBe('/get-only');
  });
});

describe('allowedRoutes', () => {
  it('routes from namespaces the listener does not select never carry traffic', async () => {
    expect(await backendOf('/not-allowed')).toBe('v1');
    expect(await backendOf('/denied')).toBe('v1');
  });
});

describe('hostnames and listener isolation', () => {
  const iso = async (host: string, path: string) => {
    const res = await request(isolatedPort, path, { host });
    return res.status === 200 ? res.echo?.backend : res.status;
  };
  it('the most specific listener takes the request and isolates its routes', async () => {
    expect(await iso('abc.foo.example.com', '/exact')).toBe('v1');
    expect(await iso('abc.foo.example.com', '/wild')).toBe(404);
    expect(await iso('abc.foo.example.com', '/other')).toBe(404);
    expect(await iso('def.foo.example.com', '/wild')).toBe('v2');
    expect(await iso('def.foo.example.com', '/exact')).toBe(404);
    expect(await iso('foo.example.com', '/exact')).toBe('v3');
  });
  it('the port in Host is ignored for matching and forwarded unchanged', async () => {
    const res = await request(isolatedPort, '/exact', { host: 'ABC.foo.example.com:1234' });
    expect(res.echo?.backend).toBe('v1');
    expect(res.echo?.host).toBe('ABC.foo.example.com:1234');
  });
  it('no match is a 404 with a short plain body', async () => {
    const res = await request(isolatedPort, '/nothing', { host: 'abc.foo.example.com' });
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.body.length).toBeLessThan(100);
  });
});
