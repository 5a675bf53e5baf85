// Property: for any path an attacker can write, what the route table matched, what the AccessPolicy read
// and what the backend received are the same path — through a real `tenantgate proxy --from-files`
// process, over raw HTTP/1.1 and h2c. Every route has its own echo backend (named after the route), and a
// custom policy bundle's `probe` rule, attached to every route, refuses requests that carry `x-probe` with
// a reason naming the route and the path the policy saw. Each generated path is sent twice: with the probe
// (what the policy saw) and without (what the backend received, and which backend, i.e. which route).
import fc from 'fast-check';
import http2 from 'node:http2';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBundle } from '../helpers/policies.ts';
import {
  gateway,
  gatewayClass,
  httpListener,
  httpRoute,
  serviceObjects,
} from '../../proxy/model/builders.ts';
import { normalizeRequestPath } from '../../proxy/runtime/request-target.ts';
import { manifestDir, spawnProxy, type ProxyProcess } from './policies-harness.ts';
import { freePort, startEcho, type EchoBackend } from './proxy-harness.ts';
import { echoOf, rawExchange } from './raw-http.ts';

const NS = 'prop';
const HOST = 'prop.test';
/** route name → its match; the oracle below reads the same table */
const ROUTES: { name: string; type: 'Exact' | 'PathPrefix'; value: string }[] = [
  { name: 'exact-admin', type: 'Exact', value: '/admin' },
  { name: 'admin', type: 'PathPrefix', value: '/admin' },
  { name: 'public', type: 'PathPrefix', value: '/public' },
  { name: 'ab', type: 'PathPrefix', value: '/a/b' },
  { name: 'root', type: 'PathPrefix', value: '/' },
];

/** The route the Gateway API precedence picks for a normalised path: Exact, then the longest prefix. */
function expectedRoute(p: string): string {
  const exact = ROUTES.find((r) => r.type === 'Exact' && r.value === p);
  if (exact) return exact.name;
  const prefixes = ROUTES.filter(
    (r) => r.type === 'PathPrefix' && (r.value === '/' || p === r.value || p.startsWith(`${r.value}/`)),
  ).sort((a, b) => b.value.length - a.value.length);
  return prefixes[0]!.name;
}

const PROBE_BUNDLE = {
  'catalog.rego': `package tenantgate.access
catalog := {"probe": {"entrypoint": "tenantgate/access/probe/decision", "description": "reports the path it saw", "schema": {"type": "object"}}}`,
  'probe.rego': `package tenantgate.access.probe
default decision := {"allow": true, "status": 200, "reason": "ok"}
decision := {"allow": false, "status": 403, "reason": concat("", ["route=", input.route.name, " path=", input.path, " host=", input.host])} if input.headers["x-probe"]`,
};

let files: ReturnType<typeof manifestDir>;
let proxy: ProxyProcess;
let port: number;
const backends: EchoBackend[] = [];

beforeAll(async () => {
  for (const r of ROUTES) backends.push(await startEcho(r.name));
  port = await freePort();
  files = manifestDir();
  files.write(
    'probe.tar.gz',
    buildBundle(PROBE_BUNDLE, ['tenantgate/access/catalog', 'tenantgate/access/probe/decision']),
  );
  files.write(
    'policy-config.yaml',
    `bundles: [{name: probe, file: ${path.join(files.dir, 'probe.tar.gz')}}]\n`,
  );
  const objects = [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS, labels: { 'tenantgate.io/tenant': 'acme' } },
    },
    gatewayClass(),
    gateway(NS, 'gw', [httpListener('http', port)]),
    ...backends.flatMap((b) => serviceObjects(NS, b.name, 80, [b.endpoint])),
    ...ROUTES.map((r) =>
      httpRoute(NS, r.name, {
        parentRefs: [{ name: 'gw' }],
        hostnames: [HOST],
        rules: [
          {
            matches: [{ path: { type: r.type, value: r.value } }],
            backendRefs: [{ name: r.name, port: 80 }],
          },
        ],
      }),
    ),
    {
      apiVersion: 'tenantgate.io/v1alpha1',
      kind: 'AccessPolicy',
      metadata: { name: 'probe', namespace: NS },
      spec: {
        targetRefs: ROUTES.map((r) => ({
          group: 'gateway.networking.k8s.io',
          kind: 'HTTPRoute',
          name: r.name,
        })),
        rule: 'probe',
        parameters: {},
      },
    },
  ];
  // the bundle and its config sit beside the manifests: the file source reads only .yaml/.yml/.json
  files.write('manifests.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  proxy = await spawnProxy({
    dir: files.dir,
    args: ['--policy-config', path.join(files.dir, 'policy-config.yaml')],
  });
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all(backends.map((b) => b.close()));
  files?.remove();
});

// Pieces attackers combine: dot segments plain and escaped, escaped letters, encoded slashes, empty
// segments, the route names themselves, and ordinary names.
const segment = fc.constantFrom(
  '',
  '.',
  '..',
  '%2e',
  '%2E%2e',
  '.%2e',
  'admin',
  '%61dmin',
  'ADMIN',
  'public',
  'pub%6cic',
  'a',
  'b',
  '%62',
  'a%2Fb',
  'x%5Cy',
  '%7e',
  '%25',
  '~',
  'x;y',
  '..;',
  '%zz',
  'c.d',
);
const target = fc
  .tuple(fc.array(segment, { minLength: 1, maxLength: 7 }), fc.constantFrom('', '?q=%2F..', '?a=1&a=%2e'))
  .map(([segs, query]) => ({ path: `/${segs.join('/')}`, query }));

interface Seen {
  status: number;
  /** route and path the policy saw (from the probe's reason) */
  policy?: { route: string; path: string; host: string };
  /** backend (= route) and path+query it received */
  backend?: { name: string; url: string; host: string };
}

function readProbe(status: number, body: string): Seen['policy'] {
  const m = / ?route=(\S+) path=(\S+) host=(\S+) \(AccessPolicy/.exec(body);
  return status === 403 && m ? { route: m[1]!, path: m[2]!, host: m[3]! } : undefined;
}

async function viaHttp1(t: { path: string; query: string }, probe: boolean): Promise<Seen> {
  const bytes = `GET ${t.path}${t.query} HTTP/1.1\r\nHost: ${HOST}\r\n${probe ? 'x-probe: 1\r\n' : ''}Connection: close\r\n\r\n`;
  const r = (await rawExchange(port, bytes)).responses[0];
  if (!r) return { status: 0 };
  const echo = echoOf(r);
  return {
    status: r.status,
    policy: readProbe(r.status, r.body),
    backend: echo ? { name: echo.backend, url: echo.url, host: echo.host } : undefined,
  };
}

function viaH2c(
  session: http2.ClientHttp2Session,
  t: { path: string; query: string },
  probe: boolean,
): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':path': t.path + t.query,
      ':authority': HOST,
      ...(probe ? { 'x-probe': '1' } : {}),
    });
    let status = 0;
    let body = '';
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('data', (c: Buffer) => (body += c));
    stream.on('end', () => {
      let backend: Seen['backend'];
      if (status === 200) {
        const echo = JSON.parse(body) as { backend: string; url: string; host: string };
        backend = { name: echo.backend, url: echo.url, host: echo.host };
      }
      resolve({ status, policy: readProbe(status, body), backend });
    });
    stream.on('error', reject);
    stream.end();
  });
}

/** How many generated paths were routed (not refused): the property must not hold only vacuously. */
let routed = 0;

/** The property itself, for one path, given what the policy saw and what the backend got. */
function agree(t: { path: string; query: string }, probed: Seen, plain: Seen): void {
  const expected = normalizeRequestPath(t.path);
  if (!('path' in expected)) {
    // refused before routing: neither the policy nor any backend saw it
    expect(probed.status, t.path).toBe(expected.status);
    expect(plain.status, t.path).toBe(expected.status);
    expect(probed.policy ?? plain.backend).toBeUndefined();
    return;
  }
  routed++;
  expect(probed.status, t.path).toBe(403);
  expect(plain.status, t.path).toBe(200);
  const policy = probed.policy!;
  const backend = plain.backend!;
  // the backend received what the policy read, and the query as written
  expect(backend.url, t.path).toBe(policy.path + t.query);
  // the route the policy ran for is the one whose backend answered, and the one the path selects
  expect(backend.name, t.path).toBe(policy.route);
  expect(backend.name, t.path).toBe(expectedRoute(policy.path));
  expect(policy.path).toBe(expected.path);
  expect(backend.host).toBe(HOST);
  expect(policy.host).toBe(HOST);
  // and that path is normal: normalising it again changes nothing
  expect(normalizeRequestPath(policy.path)).toEqual({ path: policy.path });
}

describe('route match, AccessPolicy input and backend path agree (property)', () => {
  it('over HTTP/1.1 (raw sockets)', async () => {
    routed = 0;
    await fc.assert(
      fc.asyncProperty(target, async (t) => agree(t, await viaHttp1(t, true), await viaHttp1(t, false))),
      { numRuns: 150 },
    );
    expect(routed).toBeGreaterThan(40);
  });

  it('over h2c', async () => {
    routed = 0;
    const session = http2.connect(`http://127.0.0.1:${port}`);
    try {
      await fc.assert(
        fc.asyncProperty(target, async (t) =>
          agree(t, await viaH2c(session, t, true), await viaH2c(session, t, false)),
        ),
        { numRuns: 150 },
      );
      expect(routed).toBeGreaterThan(40);
    } finally {
      session.close();
    }
  });
});
