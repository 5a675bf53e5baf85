// Route lookup over compiled tables: listener selection and isolation, hostname groups, path kinds and
// the spec's precedence across rules and routes.
import { describe, expect, it } from 'vitest';
import { gateway, gatewayClass, httpListener, httpRoute, serviceObjects } from '../model/builders.ts';
import type { HTTPRoute, KubeObject, Listener } from '../model/gateway-api.ts';
import { inputsFromObjects } from '../model/inputs.ts';
import { compileRouteTable } from './compile.ts';
import { materialize } from './materialize.ts';
import { findMatch, selectHost } from './match.ts';

const NS = 'apps';
const backends = (...names: string[]) => names.flatMap((n) => serviceObjects(NS, n, 80, ['127.0.0.1:9']));

function tableWith(listeners: Listener[], routes: HTTPRoute[], extra: KubeObject[] = []) {
  const objects = [
    gatewayClass(),
    gateway(NS, 'gw', listeners, { addresses: ['127.0.0.5'] }),
    ...backends('a', 'b', 'c', 'd'),
    ...routes,
    ...extra,
  ];
  const { ir } = compileRouteTable(inputsFromObjects(objects).inputs, {
    controllerName: 'tenantgate.io/gateway-controller',
    defaultAddress: '0.0.0.0',
  });
  return materialize(ir);
}

/** The backend name the request would go to, '404' when nothing matches. */
function lookup(
  table: ReturnType<typeof tableWith>,
  req: { host: string; path: string; method?: string; headers?: Record<string, string>; port?: number },
): string {
  const bind = table.binds.get(`127.0.0.5|${req.port ?? 10080}`)!;
  const q = req.path.indexOf('?');
  const sel = selectHost(bind, req.host);
  const m = findMatch(
    sel,
    {
      method: req.method ?? 'GET',
      path: q < 0 ? req.path : req.path.slice(0, q),
      query: q < 0 ? '' : req.path.slice(q + 1),
      headers: { host: req.host, ...req.headers },
    },
    false,
  );
  return m ? m.rule.backends[0]!.label.split('/')[1]!.split(':')[0]! : '404';
}

const to = (name: string) => [{ name, port: 80 }];

describe('path matching', () => {
  const table = tableWith(
    [httpListener('http', 80)],
    [
      httpRoute(NS, 'r', {
        parentRefs: [{ name: 'gw' }],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/v2' } }], backendRefs: to('a') },
          { matches: [{ path: { type: 'Exact', value: '/exact' } }], backendRefs: to('b') },
          { matches: [{ path: { type: 'PathPrefix', value: '/match/' } }], backendRefs: to('c') },
          { matches: [{ path: { type: 'RegularExpression', value: '/re/[0-9]+' } }], backendRefs: to('d') },
        ],
      }),
    ],
  );

  it('PathPrefix matches whole segments', () => {
    expect(lookup(table, { host: 'x', path: '/v2' })).toBe('a');
    expect(lookup(table, { host: 'x', path: '/v2/' })).toBe('a');
    expect(lookup(table, { host: 'x', path: '/v2/example' })).toBe('a');
    expect(lookup(table, { host: 'x', path: '/v2example' })).toBe('404');
  });
  it('a trailing slash in the prefix is ignored', () => {
    expect(lookup(table, { host: 'x', path: '/match' })).toBe('c');
    expect(lookup(table, { host: 'x', path: '/match/x' })).toBe('c');
  });
  it('Exact is exact, case and trailing slash included', () => {
    expect(lookup(table, { host: 'x', path: '/exact' })).toBe('b');
    expect(lookup(table, { host: 'x', path: '/exact/' })).toBe('404');
    expect(lookup(table, { host: 'x', path: '/Exact' })).toBe('404');
  });
  it('RegularExpression matches the whole path', () => {
    expect(lookup(table, { host: 'x', path: '/re/42' })).toBe('d');
    expect(lookup(table, { host: 'x', path: '/re/42/x' })).toBe('404');
  });
});

describe('precedence across rules and routes', () => {
  const table = tableWith(
    [httpListener('http', 80)],
    [
      httpRoute(
        NS,
        'old',
        {
          parentRefs: [{ name: 'gw' }],
          rules: [
            { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: to('a') },
            { matches: [{ headers: [{ name: 'version', value: 'one' }] }], backendRefs: to('b') },
            { matches: [{ method: 'PATCH' }], backendRefs: to('c') },
            { matches: [{ path: { type: 'PathPrefix', value: '/path5' } }], backendRefs: to('a') },
          ],
        },
        { creationTimestamp: '2024-01-01T00:00:00Z' },
      ),
      httpRoute(
        NS,
        'new',
        {
          parentRefs: [{ name: 'gw' }],
          rules: [
            {
              matches: [
                {
                  headers: [
                    { name: 'version', value: 'two' },
                    { name: 'color', value: 'orange' },
                  ],
                },
              ],
              backendRefs: to('d'),
            },
            {
              matches: [
                {
                  path: { type: 'PathPrefix', value: '/' },
                  queryParams: [{ name: 'animal', value: 'whale' }],
                },
              ],
              backendRefs: to('d'),
            },
            { matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: to('d') },
          ],
        },
        { creationTimestamp: '2025-01-01T00:00:00Z' },
      ),
    ],
  );

  it('a longer prefix beats a method match', () => {
    expect(lookup(table, { host: 'x', path: '/path5', method: 'PATCH' })).toBe('a');
  });
  it('a method match beats header matches', () => {
    expect(lookup(table, { host: 'x', path: '/', method: 'PATCH', headers: { version: 'one' } })).toBe('c');
  });
  it('more header matches win across routes', () => {
    expect(lookup(table, { host: 'x', path: '/', headers: { version: 'two', color: 'orange' } })).toBe('d');
    expect(lookup(table, { host: 'x', path: '/', headers: { version: 'one' } })).toBe('b');
  });
  it('header names are case-insensitive, values are not', () => {
    // Node lower-cases incoming header names; the matcher compares lower-cased names
    expect(lookup(table, { host: 'x', path: '/', headers: { version: 'ONE' } })).toBe('a');
  });
  it('query params count after headers; then the oldest route wins ties', () => {
    expect(lookup(table, { host: 'x', path: '/?animal=whale' })).toBe('d');
    expect(lookup(table, { host: 'x', path: '/?animal=Whale' })).toBe('a');
    expect(lookup(table, { host: 'x', path: '/' })).toBe('a');
  });
  it('HEAD does not match a method match for GET', () => {
    const t = tableWith(
      [httpListener('http', 80)],
      [
        httpRoute(NS, 'm', {
          parentRefs: [{ name: 'gw' }],
          rules: [{ matches: [{ method: 'GET' }], backendRefs: to('a') }],
        }),
      ],
    );
    expect(lookup(t, { host: 'x', path: '/', method: 'GET' })).toBe('a');
    expect(lookup(t, { host: 'x', path: '/', method: 'HEAD' })).toBe('404');
  });
});

describe('hostnames and listeners', () => {
  const table = tableWith(
    [
      httpListener('exact', 80, { hostname: 'abc.foo.example.com' }),
      httpListener('wild', 80, { hostname: '*.foo.example.com' }),
      httpListener('any', 80),
    ],
    [
      httpRoute(NS, 'exact', {
        parentRefs: [{ name: 'gw', sectionName: 'exact' }],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/exact' } }], backendRefs: to('a') }],
      }),
      httpRoute(NS, 'wild', {
        parentRefs: [{ name: 'gw', sectionName: 'wild' }],
        rules: [{ backendRefs: to('b') }],
      }),
      httpRoute(NS, 'any', {
        parentRefs: [{ name: 'gw', sectionName: 'any' }],
        rules: [{ backendRefs: to('c') }],
      }),
      httpRoute(NS, 'hosts', {
        parentRefs: [{ name: 'gw', sectionName: 'any' }],
        hostnames: ['*.bar.com', 'x.bar.com'],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/h' } }], backendRefs: to('d') }],
      }),
    ],
  );

  it('the most specific listener isolates its routes', () => {
    expect(lookup(table, { host: 'abc.foo.example.com', path: '/exact' })).toBe('a');
    expect(lookup(table, { host: 'abc.foo.example.com', path: '/other' })).toBe('404');
    expect(lookup(table, { host: 'def.foo.example.com', path: '/other' })).toBe('b');
    expect(lookup(table, { host: 'foo.example.com', path: '/other' })).toBe('c');
  });
  it('the port of the Host header is ignored', () => {
    expect(lookup(table, { host: 'ABC.foo.example.com:8080', path: '/exact' })).toBe('a');
  });
  it('route hostnames: exact before wildcard, wildcard needs a label', () => {
    expect(lookup(table, { host: 'x.bar.com', path: '/h' })).toBe('d');
    expect(lookup(table, { host: 'y.z.bar.com', path: '/h' })).toBe('d');
    expect(lookup(table, { host: 'bar.com', path: '/h' })).toBe('c');
  });
});
