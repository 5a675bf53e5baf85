// One request, one meaning, through a real `tenantgate proxy --from-files` process, tried as an attacker
// would with raw sockets and HTTP/2 clients: every way of making a path match one route (or dodge an
// AccessPolicy) while meaning another, every way of naming two authorities, and every way of slipping bytes
// past a refused upgrade. A route `/admin` and the host `secret.test` are fenced by AccessPolicies that
// let only HEAD through, so a GET that reaches them answers 403; a bypass would answer 200 from the
// `public` backend (or reach the `admin` one).
import crypto from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  gateway,
  gatewayClass,
  grpcRoute,
  httpListener,
  httpRoute,
  serviceObjects,
  tlsSecret,
} from '../../proxy/model/builders.ts';
import type { KubeObject } from '../../proxy/model/gateway-api.ts';
import { manifestDir, spawnProxy, type ProxyProcess } from './policies-harness.ts';
import {
  eventually,
  freePort,
  selfSignedCert,
  startEcho,
  type Certificate,
  type EchoBackend,
} from './proxy-harness.ts';
import { echoOf, rawExchange, type RawExchange } from './raw-http.ts';

const NS = 'norm';
const ROOT = path.resolve(import.meta.dirname, '../..');

/** An upgrade backend: answers 101 naming `protocol` (and the path it saw), then echoes every byte. */
async function startUpgradeBackend(
  protocol: string,
): Promise<{ port: number; paths: string[]; close(): Promise<void> }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(426).end();
  });
  server.on('upgrade', (req, socket: net.Socket, head: Buffer) => {
    paths.push(req.url ?? '');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${protocol}\r\nConnection: Upgrade\r\nX-Seen-Path: ${req.url}\r\nX-Seen-Host: ${req.headers.host}\r\n\r\n`,
    );
    if (head.length) socket.write(head);
    socket.on('data', (d) => socket.write(d));
    socket.on('error', () => socket.destroy());
    socket.on('end', () => socket.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    paths,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let files: ReturnType<typeof manifestDir>;
let proxy: ProxyProcess;
let port: number, tlsPort: number;
let cert: Certificate;
let pub: EchoBackend,
  admin: EchoBackend,
  refuse: EchoBackend,
  grpcPublic: EchoBackend,
  grpcAdmin: EchoBackend;
let wsOk: Awaited<ReturnType<typeof startUpgradeBackend>>;
let wsWrong: Awaited<ReturnType<typeof startUpgradeBackend>>;

const policy = (
  kind: 'AccessPolicy' | 'RateLimitPolicy',
  name: string,
  target: string,
  spec: object,
  targetKind = 'HTTPRoute',
) => ({
  apiVersion: 'tenantgate.io/v1alpha1',
  kind,
  metadata: { name, namespace: NS },
  spec: { targetRefs: [{ group: 'gateway.networking.k8s.io', kind: targetKind, name: target }], ...spec },
});
const headOnly = { rule: 'methods', parameters: { methods: ['HEAD'] } };
const prefix = (value: string, backend: string, extra: object = {}) => ({
  matches: [{ path: { type: 'PathPrefix' as const, value } }],
  backendRefs: [{ name: backend, port: 80 }],
  ...extra,
});

/** The Gateway (HTTP and HTTPS listeners), the backends and the routes and policies of these tests. */
function normalizeManifests(o: {
  port: number;
  tlsPort: number;
  cert: Certificate;
  endpoints: Record<string, string>;
  appProtocols?: Record<string, string>;
}): KubeObject[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: NS, labels: { 'tenantgate.io/tenant': 'acme' } },
    },
    gatewayClass(),
    gateway(NS, 'gw', [
      httpListener('http', o.port),
      {
        name: 'https',
        port: o.tlsPort,
        protocol: 'HTTPS',
        tls: { mode: 'Terminate', certificateRefs: [{ name: 'cert' }] },
        allowedRoutes: { namespaces: { from: 'Same' } },
      },
    ]),
    tlsSecret(NS, 'cert', o.cert.certPem, o.cert.keyPem),
    ...Object.entries(o.endpoints).flatMap(([name, ep]) =>
      serviceObjects(NS, name, 80, [ep], o.appProtocols?.[name] ? { appProtocol: o.appProtocols[name] } : {}),
    ),
    httpRoute(NS, 'site', {
      parentRefs: [{ name: 'gw' }],
      hostnames: ['app.test'],
      rules: [prefix('/', 'public')],
    }),
    httpRoute(NS, 'admin', {
      parentRefs: [{ name: 'gw' }],
      hostnames: ['app.test'],
      rules: [prefix('/admin', 'admin')],
    }),
    httpRoute(NS, 'secret', {
      parentRefs: [{ name: 'gw' }],
      hostnames: ['secret.test'],
      rules: [prefix('/', 'admin')],
    }),
    httpRoute(NS, 'ws', {
      parentRefs: [{ name: 'gw' }],
      hostnames: ['ws.test'],
      rules: [
        prefix('/ws', 'ws-ok'),
        prefix('/status', 'refuse'),
        prefix('/wrong', 'ws-wrong'),
        prefix('/down', 'down'),
        {
          matches: [{ path: { type: 'PathPrefix', value: '/old' } }],
          filters: [
            {
              type: 'RequestRedirect',
              requestRedirect: { path: { type: 'ReplaceFullPath', replaceFullPath: '/ws' }, statusCode: 302 },
            },
          ],
        },
      ],
    }),
    httpRoute(NS, 'rewrite', {
      parentRefs: [{ name: 'gw' }],
      hostnames: ['rw.test'],
      rules: [
        prefix('/api', 'public', {
          filters: [
            {
              type: 'URLRewrite',
              urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/v2' } },
            },
          ],
        }),
      ],
    }),
    httpRoute(NS, 'ws-limited', {
      parentRefs: [{ name: 'gw' }],
      hostnames: ['ws-limited.test'],
      rules: [prefix('/', 'ws-ok')],
    }),
    grpcRoute(NS, 'grpc-public', {
      parentRefs: [{ name: 'gw' }],
      hostnames: ['grpc.test'],
      rules: [
        {
          matches: [{ method: { service: 'pkg.Public' } }],
          backendRefs: [{ name: 'grpc-public', port: 80 }],
        },
      ],
    }),
    grpcRoute(NS, 'grpc-admin', {
      parentRefs: [{ name: 'gw' }],
      hostnames: ['grpc.test'],
      rules: [
        { matches: [{ method: { service: 'pkg.Admin' } }], backendRefs: [{ name: 'grpc-admin', port: 80 }] },
      ],
    }),
    policy('AccessPolicy', 'admin-head-only', 'admin', headOnly),
    policy('AccessPolicy', 'secret-head-only', 'secret', headOnly),
    policy(
      'AccessPolicy',
      'grpc-admin-closed',
      'grpc-admin',
      { rule: 'methods', parameters: { methods: ['GET'] } },
      'GRPCRoute',
    ),
    policy('RateLimitPolicy', 'ws-once', 'ws-limited', {
      limits: [{ name: 'once', requests: 1, unit: 'Hour' }],
    }),
  ] as KubeObject[];
}

beforeAll(async () => {
  cert = selfSignedCert(['app.test', 'secret.test', 'grpc.test']);
  [pub, admin, refuse, grpcPublic, grpcAdmin] = await Promise.all([
    startEcho('public'),
    startEcho('admin'),
    startEcho('refuse'),
    startEcho('grpc-public', { h2c: true }),
    startEcho('grpc-admin', { h2c: true }),
  ]);
  [wsOk, wsWrong] = await Promise.all([startUpgradeBackend('websocket'), startUpgradeBackend('h2c')]);
  [port, tlsPort] = [await freePort(), await freePort()];
  const down = await freePort();
  files = manifestDir();
  const objects = normalizeManifests({
    port,
    tlsPort,
    cert,
    endpoints: {
      public: pub.endpoint,
      admin: admin.endpoint,
      refuse: refuse.endpoint,
      'grpc-public': grpcPublic.endpoint,
      'grpc-admin': grpcAdmin.endpoint,
      'ws-ok': `127.0.0.1:${wsOk.port}`,
      'ws-wrong': `127.0.0.1:${wsWrong.port}`,
      down: `127.0.0.1:${down}`,
    },
  });
  files.write('all.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  proxy = await spawnProxy({ dir: files.dir, env: { TENANTGATE_LOG_LEVEL: 'debug' } });
});

afterAll(async () => {
  await proxy?.stop();
  await Promise.all([pub, admin, refuse, grpcPublic, grpcAdmin, wsOk, wsWrong].map((b) => b?.close()));
  files?.remove();
});

const get = (target: string, host = 'app.test', extra = '') =>
  `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`;
const first = (x: RawExchange) => x.responses[0];
const statusOf = async (bytes: string) => first(await rawExchange(port, bytes))?.status;
const everyReceived = () => [pub, admin, refuse].flatMap((b) => b.received.map((r) => `${b.name} ${r.url}`));

describe('path normalisation: the fence on /admin holds', () => {
  it('the fence itself: GET /admin is refused, HEAD passes, other paths are public', async () => {
    expect(await statusOf(get('/admin'))).toBe(403);
    expect(await statusOf(`HEAD /admin/x HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`)).toBe(200);
    const res = first(await rawExchange(port, get('/public/x?q=%2F..')));
    expect(echoOf(res)).toMatchObject({ backend: 'public', url: '/public/x?q=%2F..' });
  });

  it.each([
    ['dot segments', '/public/../admin'],
    ['a dot segment at the end', '/admin/x/..'],
    ['a single-dot segment', '/./admin'],
    ['repeated slashes', '//admin'],
    ['repeated slashes inside', '/admin//x'],
    ['escaped unreserved letters', '/%61dmin'],
    ['escaped dot segments', '/public/%2e%2e/admin'],
    ['mixed-case escaped dots', '/public/.%2E/admin'],
  ])('%s (%s) reaches the fence, not the public route', async (_name, target) => {
    const x = await rawExchange(port, get(target));
    expect(first(x)?.status).toBe(403);
    expect(first(x)?.body).toContain('AccessPolicy norm/admin-head-only');
  });

  it('HEAD through the same gaps reaches the admin backend with the normalised path', async () => {
    for (const [target, seen] of [
      ['/public/../admin/a', '/admin/a'],
      ['//admin//b/./c', '/admin/b/c'],
      ['/%61dmin/%7e?x=%2e%2e', '/admin/~?x=%2e%2e'],
    ] as const) {
      admin.received.length = 0;
      const x = await rawExchange(
        port,
        `HEAD ${target} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`,
      );
      expect(first(x)?.status, target).toBe(200);
      expect(admin.received.map((r) => r.url)).toEqual([seen]);
    }
  });

  it('URLRewrite applies to the normalised path', async () => {
    const x = await rawExchange(port, get('/x/../api//a/%62?q=..', 'rw.test'));
    expect(echoOf(first(x))).toMatchObject({ backend: 'public', url: '/v2/a/b?q=..' });
  });

  it.each([
    ['an encoded slash', '/admin%2Fx', 'path.escaped-slash'],
    ['a lower-case encoded slash', '/public%2f..%2fadmin', 'path.escaped-slash'],
    ['an encoded backslash', '/public%5C..%5Cadmin', 'path.escaped-slash'],
    ['a raw backslash', '/public\\..\\admin', 'path.escaped-slash'],
    ['.. above the root', '/../admin', 'path.above-root'],
    ['escaped .. above the root', '/%2e%2e/admin', 'path.above-root'],
    ['an invalid escape', '/adm%zzin', 'path.invalid-escape'],
    ['a truncated escape', '/admin%2', 'path.invalid-escape'],
    ['a dot segment with parameters', '/public/..;/admin', 'path.dot-segment-parameter'],
    ['a fragment', '/admin#frag', 'target.fragment'],
    // Node's parser refuses these before the proxy sees them; its error code names the rule
    ['a non-ASCII byte', '/admin\u00e9', 'http.'],
    ['a control character', '/ad\u0001min', 'http.HPE_'],
  ])('%s (%j) is refused with 400 and reaches no backend', async (_name, target, rule) => {
    const before = everyReceived().length;
    const x = await rawExchange(port, Buffer.from(get(target), 'latin1'));
    expect(first(x)?.status).toBe(400);
    expect(everyReceived().length).toBe(before);
    await eventually(() => proxy.output().includes(`"rule":"${rule}`));
  });
});

describe('authority', () => {
  it('an absolute-form target routes by its authority, not the Host header', async () => {
    // the Host says the public site; the target names the fenced host
    expect(await statusOf(get('http://secret.test/x', 'app.test'))).toBe(403);
    // and the other way round: the backend gets the target's authority as Host
    const x = await rawExchange(port, get('http://app.test/public/../p?q=1', 'secret.test'));
    expect(echoOf(first(x))).toMatchObject({ backend: 'public', url: '/p?q=1', host: 'app.test' });
  });

  it.each([
    [
      'two Host headers',
      'GET /x HTTP/1.1\r\nHost: app.test\r\nHost: secret.test\r\nConnection: close\r\n\r\n',
      'host.duplicate',
    ],
    [
      'two Host headers, different case',
      'GET /x HTTP/1.1\r\nhost: app.test\r\nHOST: app.test\r\nConnection: close\r\n\r\n',
      'host.duplicate',
    ],
    ['an empty Host', 'GET /x HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n', 'host.empty'],
    [
      'a Host with a path',
      'GET /x HTTP/1.1\r\nHost: app.test/admin\r\nConnection: close\r\n\r\n',
      'host.invalid',
    ],
    [
      'a Host with userinfo',
      'GET /x HTTP/1.1\r\nHost: u@app.test\r\nConnection: close\r\n\r\n',
      'host.invalid',
    ],
    [
      'a Host with a bad port',
      'GET /x HTTP/1.1\r\nHost: app.test:http\r\nConnection: close\r\n\r\n',
      'host.invalid',
    ],
    ['no Host (HTTP/1.1)', 'GET /x HTTP/1.1\r\nConnection: close\r\n\r\n', 'host.missing'],
    ['no Host (HTTP/1.0)', 'GET /x HTTP/1.0\r\n\r\n', 'host.missing'],
    [
      'absolute-form with userinfo',
      'GET http://u:p@secret.test/ HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n',
      'authority.userinfo',
    ],
    [
      'absolute-form with another scheme',
      'GET ftp://secret.test/ HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n',
      'target.form',
    ],
    [
      'asterisk-form with GET',
      'GET * HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n',
      'target.asterisk',
    ],
  ])('%s → 400, answered by the proxy', async (_name, bytes, rule) => {
    const before = everyReceived().length;
    const x = await rawExchange(port, bytes);
    expect(first(x)?.status).toBe(400);
    expect(first(x)?.body.length).toBeLessThan(120);
    expect(everyReceived().length).toBe(before);
    await eventually(() => proxy.output().includes(`"rule":"${rule}"`));
  });

  it('CONNECT is refused with 405; OPTIONS * is answered by the proxy', async () => {
    const connect = await rawExchange(
      port,
      'CONNECT secret.test:443 HTTP/1.1\r\nHost: secret.test:443\r\n\r\n',
    );
    expect(first(connect)?.status).toBe(405);
    expect(connect.closed).toBe(true);
    const options = first(
      await rawExchange(port, 'OPTIONS * HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n'),
    );
    expect(options?.status).toBe(200);
    expect(options?.headers.allow).toContain('GET');
  });

  it('HTTP/1.1 over TLS: the same rules', async () => {
    const tlsOpts = { tls: { servername: 'app.test', ca: cert.certPem } };
    expect(first(await rawExchange(tlsPort, get('//admin'), tlsOpts))?.status).toBe(403);
    expect(
      first(await rawExchange(tlsPort, 'GET /x HTTP/1.1\r\nConnection: close\r\n\r\n', tlsOpts))?.status,
    ).toBe(400);
    const dup = 'GET /x HTTP/1.1\r\nHost: app.test\r\nHost: secret.test\r\nConnection: close\r\n\r\n';
    expect(first(await rawExchange(tlsPort, dup, tlsOpts))?.status).toBe(400);
  });
});

function h2(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer) {
  return new Promise<{ status: number; headers: http2.IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const stream = session.request(headers);
      let data = '';
      let h: http2.IncomingHttpHeaders = {};
      stream.on('response', (x) => (h = x));
      stream.on('data', (c: Buffer) => (data += c));
      stream.on('end', () => resolve({ status: Number(h[':status']), headers: h, body: data }));
      stream.on('error', reject);
      stream.end(body);
    },
  );
}

describe('HTTP/2 (h2c and TLS)', () => {
  for (const mode of ['h2c', 'tls'] as const) {
    const connect = () =>
      mode === 'h2c'
        ? http2.connect(`http://127.0.0.1:${port}`)
        : http2.connect(`https://127.0.0.1:${tlsPort}`, { servername: 'app.test', ca: cert.certPem });

    it(`${mode}: the path is normalised before routing and policies`, async () => {
      const session = connect();
      try {
        for (const p of ['/public/../admin', '//admin', '/%61dmin', '/public/%2E%2e/admin'])
          expect((await h2(session, { ':path': p, ':authority': 'app.test' })).status, p).toBe(403);
        expect((await h2(session, { ':path': '/admin%2fx', ':authority': 'app.test' })).status).toBe(400);
        const ok = await h2(session, { ':path': '/x/../public/./y?a=%2e', ':authority': 'app.test' });
        expect(JSON.parse(ok.body)).toMatchObject({
          backend: 'public',
          url: '/public/y?a=%2e',
          host: 'app.test',
        });
      } finally {
        session.close();
      }
    });

    it(`${mode}: :authority decides; a host header naming another authority is malformed (400)`, async () => {
      const session = connect();
      try {
        expect((await h2(session, { ':path': '/x', ':authority': 'secret.test' })).status).toBe(403);
        const mismatch = await h2(session, { ':path': '/x', ':authority': 'app.test', host: 'secret.test' });
        expect(mismatch.status).toBe(400);
        const same = await h2(session, { ':path': '/x', ':authority': 'app.test', host: 'APP.test' });
        expect(JSON.parse(same.body)).toMatchObject({ backend: 'public', host: 'app.test' });
        const tunnel = await h2(session, { ':method': 'CONNECT', ':authority': 'secret.test:443' });
        expect(tunnel.status).toBe(405);
      } finally {
        session.close();
      }
    });
  }

  it('GRPCRoute: the method path is normalised before the service match and the policy', async () => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const call = (p: string) =>
      h2(
        session,
        {
          ':method': 'POST',
          ':path': p,
          ':authority': 'grpc.test',
          'content-type': 'application/grpc',
          te: 'trailers',
        },
        Buffer.from([0, 0, 0, 0, 0]),
      );
    try {
      const open = await call('/pkg.Public/Hello');
      expect(JSON.parse(open.body)).toMatchObject({ backend: 'grpc-public', url: '/pkg.Public/Hello' });
      for (const p of [
        '/pkg.Public/../pkg.Admin/Drop',
        '/pkg.Public/%2e%2e/pkg.Admin/Drop',
        '//pkg.Admin/Drop',
      ])
        expect((await call(p)).headers['grpc-status'], p).toBe('7'); // PERMISSION_DENIED from the admin policy
      expect((await call('/pkg.Public%2F..%2Fpkg.Admin/Drop')).headers['grpc-status']).toBe('3'); // 400
      expect(grpcAdmin.received).toEqual([]);
    } finally {
      session.close();
    }
  });
});

const upgrade = (target: string, host = 'ws.test') =>
  `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
const smuggled = (n: number) => `GET /smuggled-${n} HTTP/1.1\r\nHost: ws.test\r\n\r\n`;

describe('upgrades', () => {
  it('joins the sockets after a 101 naming the protocol asked for; early bytes follow; the path is normalised', async () => {
    const x = await rawExchange(port, `${upgrade('/x/../ws//chat?room=1')}early`, {
      afterFirstResponse: 'late',
      waitMs: 1000,
    });
    expect(first(x)?.status).toBe(101);
    expect(first(x)?.headers['x-seen-path']).toBe('/ws/chat?room=1');
    expect(first(x)?.headers['x-seen-host']).toBe('ws.test');
    expect(x.raw).toContain('earlylate');
  });

  it('a refused upgrade is relayed as an ordinary answer, the connection closed, later bytes never forwarded', async () => {
    refuse.received.length = 0;
    const x = await rawExchange(port, upgrade('/status/403') + smuggled(1), {
      afterFirstResponse: smuggled(2),
    });
    expect(first(x)?.status).toBe(403);
    expect(x.closed).toBe(true);
    expect(x.responses).toHaveLength(1);
    expect(refuse.received.map((r) => r.url)).toEqual(['/status/403']);
    expect(everyReceived().filter((r) => r.includes('smuggled'))).toEqual([]);
  });

  it('a 200 answer to an upgrade is relayed with its body and the connection closed', async () => {
    const x = await rawExchange(port, upgrade('/status/200') + smuggled(3));
    expect(first(x)?.status).toBe(200);
    expect(echoOf(first(x))).toMatchObject({ backend: 'refuse', url: '/status/200' });
    expect(x.closed).toBe(true);
    expect(everyReceived().filter((r) => r.includes('smuggled'))).toEqual([]);
  });

  it('a 101 naming another protocol than the one asked for is a 502', async () => {
    const x = await rawExchange(port, upgrade('/wrong') + 'bytes for h2c');
    expect(first(x)?.status).toBe(502);
    expect(x.closed).toBe(true);
  });

  it('policies, redirects and backend failures answer the upgrade request itself', async () => {
    const secret = await rawExchange(port, upgrade('/ws', 'secret.test') + smuggled(4));
    expect(first(secret)?.status).toBe(403);
    expect(secret.closed).toBe(true);
    const limited = [await rawExchange(port, upgrade('/', 'ws-limited.test'), { waitMs: 500 })];
    limited.push(await rawExchange(port, upgrade('/', 'ws-limited.test') + smuggled(5)));
    expect(first(limited[0]!)?.status).toBe(101);
    expect(first(limited[1]!)?.status).toBe(429);
    expect(first(limited[1]!)?.headers['retry-after']).toBeDefined();
    const redirect = first(await rawExchange(port, upgrade('/old/x')));
    expect(redirect?.status).toBe(302);
    expect(redirect?.headers.location).toBe('http://ws.test:' + port + '/ws');
    expect(first(await rawExchange(port, upgrade('/down') + smuggled(6)))?.status).toBe(502);
    expect(first(await rawExchange(port, upgrade('/ws%2Fx')))?.status).toBe(400);
    expect(first(await rawExchange(port, upgrade('/nothing-here')))?.status).toBe(404);
    expect(everyReceived().filter((r) => r.includes('smuggled'))).toEqual([]);
    expect(wsOk.paths.filter((p) => p.includes('smuggled'))).toEqual([]);
  });

  it('an upgrade request with a body is refused', async () => {
    const bytes = `POST /ws HTTP/1.1\r\nHost: ws.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: ${smuggled(7).length}\r\n\r\n${smuggled(7)}`;
    expect(first(await rawExchange(port, bytes))?.status).toBe(400);
    await eventually(() => proxy.output().includes('"rule":"upgrade.body"'));
    expect(wsOk.paths.filter((p) => p.includes('smuggled'))).toEqual([]);
  });
});

describe('proxy flags', () => {
  it('--merge-slashes=false --escaped-slashes keep: repeated slashes and %2F are routed as written', async () => {
    const other = await spawnProxy({
      dir: files.dir,
      args: ['--merge-slashes=false', '--escaped-slashes', 'keep'],
      bindAddress: '127.0.0.2', // the same listener ports, another address
    });
    try {
      const at = async (bytes: string) => first(await rawExchange(port, bytes, { address: '127.0.0.2' }));
      expect(echoOf(await at(get('//admin')))).toMatchObject({ backend: 'public', url: '//admin' });
      expect(echoOf(await at(get('/admin%2fx/%2E')))).toMatchObject({
        backend: 'public',
        url: '/admin%2Fx/',
      });
      expect((await at(get('/public/../admin')))?.status).toBe(403);
    } finally {
      await other.stop();
    }
  });

  it('--escaped-slashes unescape-and-redirect: 307 to the unescaped, normalised path with the query', async () => {
    const other = await spawnProxy({
      dir: files.dir,
      args: ['--escaped-slashes', 'unescape-and-redirect'],
      bindAddress: '127.0.0.3',
    });
    try {
      const { raw } = await rawExchange(port, get('/public%2F..%2Fadmin%5Cx?q=%2F'), {
        address: '127.0.0.3',
      });
      expect(raw).toMatch(/^HTTP\/1\.1 307 /);
      expect(raw).toMatch(/\r\nlocation: \/admin\/x\?q=%2F\r\n/i);
    } finally {
      await other.stop();
    }
  });

  it('a bad flag value is refused with the rule', async () => {
    const child = spawn(path.join(ROOT, 'node_modules/.bin/node'), [
      path.join(ROOT, 'cmd/tenantgate.ts'),
      'proxy',
      '--from-files',
      files.dir,
      '--escaped-slashes',
      'decode',
    ]);
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(err).toContain("--escaped-slashes: 'decode' must be one of keep, reject, unescape-and-redirect");
  });
});

describe('refusals are logged at debug, naming the rule', () => {
  it('one line per refusal with the rule, status and target', () => {
    const lines = proxy
      .output()
      .split('\n')
      .filter((l) => l.includes('"request not routed"'))
      .map((l) => JSON.parse(l) as { rule: string; status: number; target: string });
    expect(lines.find((l) => l.rule === 'host.duplicate')).toMatchObject({ status: 400, target: '/x' });
    expect(lines.find((l) => l.rule === 'path.escaped-slash')).toMatchObject({ status: 400 });
    expect(lines.find((l) => l.rule === 'method.connect')).toMatchObject({ status: 405 });
    expect(lines.find((l) => l.rule === 'authority.mismatch')).toMatchObject({ status: 400 });
  });
});
