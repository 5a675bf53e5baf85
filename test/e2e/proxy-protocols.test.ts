// Protocols through the real proxy: HTTPS with SNI certificate selection and 421 for a Host of another
// listener, HTTP/2 (TLS and h2c prior knowledge), h2c backends by appProtocol, GRPCRoute matching with
// trailers passed through, and WebSocket upgrades.
import crypto from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
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
import {
  freePort,
  selfSignedCert,
  startEcho,
  startTestProxy,
  stopAll,
  type Certificate,
  type EchoBackend,
  type TestProxy,
} from './proxy-harness.ts';

const NS = 'protocols';
let plain: EchoBackend, h2c: EchoBackend, grpcA: EchoBackend, grpcB: EchoBackend;
let ws: { port: number; close: () => Promise<void> };
let proxy: TestProxy;
let httpPort: number, httpsPort: number;
let certA: Certificate, certB: Certificate;

/** A WebSocket echo backend: answers the handshake, then echoes every (small, masked) frame unmasked. */
async function startWsEcho(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer((_req, res) => res.writeHead(426).end());
  server.on('upgrade', (req, socket) => {
    const accept = crypto
      .createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Seen-Path: ${req.url}\r\n\r\n`,
    );
    socket.on('data', (buf: Buffer) => {
      const opcode = buf[0]! & 0x0f;
      const len = buf[1]! & 0x7f;
      const mask = buf.subarray(2, 6);
      const payload = Buffer.from(buf.subarray(6, 6 + len).map((byte, i) => byte ^ mask[i % 4]!));
      if (opcode === 8) return void socket.end(Buffer.from([0x88, 0]));
      socket.write(Buffer.concat([Buffer.from([0x80 | opcode, len]), payload]));
    });
    socket.on('error', () => socket.destroy());
    socket.on('end', () => socket.end()); // http servers allow half-open sockets; close ours when the proxy does
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A gRPC-ish h2c backend: answers any POST with a data frame and grpc-status trailers naming itself. */
async function startGrpc(name: string): Promise<EchoBackend> {
  const server = http2.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/grpc', 'x-backend': name, 'x-path': req.url });
      res.addTrailers({ 'grpc-status': '0', 'grpc-message': `from ${name}` });
      res.end(Buffer.from([0, 0, 0, 0, 0]));
    });
  });
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (s) => sessions.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const close = () => {
    for (const s of sessions) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  };
  return { name, port, endpoint: `127.0.0.1:${port}`, received: [], close };
}

beforeAll(async () => {
  certA = selfSignedCert(['a.test']);
  certB = selfSignedCert(['*.b.test']);
  [plain, h2c, grpcA, grpcB] = await Promise.all([
    startEcho('plain'),
    startEcho('h2c', { h2c: true }),
    startGrpc('grpc-a'),
    startGrpc('grpc-b'),
  ]);
  ws = await startWsEcho();
  [httpPort, httpsPort] = [await freePort(), await freePort()];
  const tls = (name: string) => ({ mode: 'Terminate' as const, certificateRefs: [{ name }] });
  proxy = await startTestProxy([
    gatewayClass(),
    gateway(
      NS,
      'gw',
      [
        httpListener('http', httpPort),
        {
          name: 'https-a',
          port: httpsPort,
          protocol: 'HTTPS',
          hostname: 'a.test',
          tls: tls('cert-a'),
          allowedRoutes: { namespaces: { from: 'Same' } },
        },
        {
          name: 'https-b',
          port: httpsPort,
          protocol: 'HTTPS',
          hostname: '*.b.test',
          tls: tls('cert-b'),
          allowedRoutes: { namespaces: { from: 'Same' } },
        },
      ],
      { addresses: ['127.0.0.1'] },
    ),
    tlsSecret(NS, 'cert-a', certA.certPem, certA.keyPem),
    tlsSecret(NS, 'cert-b', certB.certPem, certB.keyPem),
    ...serviceObjects(NS, 'plain', 80, [plain.endpoint]),
    ...serviceObjects(NS, 'h2c', 80, [h2c.endpoint], { appProtocol: 'kubernetes.io/h2c' }),
    ...serviceObjects(NS, 'ws', 80, [`127.0.0.1:${ws.port}`], { appProtocol: 'kubernetes.io/ws' }),
    ...serviceObjects(NS, 'grpc-a', 80, [grpcA.endpoint]),
    ...serviceObjects(NS, 'grpc-b', 80, [grpcB.endpoint]),
    httpRoute(NS, 'plain', {
      parentRefs: [{ name: 'gw', sectionName: 'http' }],
      hostnames: ['example.com'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/h2c' } }],
          backendRefs: [{ name: 'h2c', port: 80 }],
        },
        {
          matches: [{ path: { type: 'PathPrefix', value: '/ws' } }],
          backendRefs: [{ name: 'ws', port: 80 }],
        },
        { backendRefs: [{ name: 'plain', port: 80 }] },
      ],
    }),
    httpRoute(NS, 'site-a', {
      parentRefs: [{ name: 'gw', sectionName: 'https-a' }],
      rules: [{ backendRefs: [{ name: 'plain', port: 80 }] }],
    }),
    httpRoute(NS, 'site-b', {
      parentRefs: [{ name: 'gw', sectionName: 'https-b' }],
      rules: [{ backendRefs: [{ name: 'h2c', port: 80 }] }],
    }),
    grpcRoute(NS, 'grpc', {
      parentRefs: [{ name: 'gw', sectionName: 'http' }],
      hostnames: ['grpc.test'],
      rules: [
        {
          matches: [{ method: { service: 'pkg.Greeter', method: 'Hello' } }],
          backendRefs: [{ name: 'grpc-a', port: 80 }],
        },
        {
          matches: [{ method: { service: 'pkg.Greeter' } }, { headers: [{ name: 'x-tenant', value: 'b' }] }],
          backendRefs: [{ name: 'grpc-b', port: 80 }],
        },
      ],
    }),
  ]);
});

afterAll(() => stopAll(proxy, [plain, h2c, grpcA, grpcB, ws]));

function httpsGet(servername: string, host: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port: httpsPort, path: '/tls', servername, ca, agent: false, headers: { host } },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function h2Request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer,
): Promise<{ headers: http2.IncomingHttpHeaders; trailers: http2.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers);
    let trailers: http2.IncomingHttpHeaders = {};
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let data = '';
    stream.on('response', (h) => (responseHeaders = h));
    stream.on('trailers', (t) => (trailers = t));
    stream.on('data', (c: Buffer) => (data += c.toString('latin1')));
    stream.on('end', () => resolve({ headers: responseHeaders, trailers, body: data }));
    stream.on('error', reject);
    stream.end(body);
  });
}

describe('HTTPS', () => {
  it('picks the certificate by SNI and routes by Host', async () => {
    const res = await httpsGet('a.test', 'a.test', certA.certPem);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).backend).toBe('plain');
    const b = await httpsGet('x.b.test', 'x.b.test', certB.certPem);
    expect(JSON.parse(b.body).backend).toBe('h2c');
  });
  it('421 when the Host belongs to another listener than the SNI chose', async () => {
    expect((await httpsGet('a.test', 'x.b.test', certA.certPem)).status).toBe(421);
  });
  it('HTTP/2 over TLS (ALPN h2)', async () => {
    const session = http2.connect(`https://127.0.0.1:${httpsPort}`, {
      servername: 'a.test',
      ca: certA.certPem,
    });
    try {
      const res = await h2Request(session, { ':path': '/h2', ':authority': 'a.test' });
      expect(res.headers[':status']).toBe(200);
      expect(JSON.parse(res.body).backend).toBe('plain');
      const misdirected = await h2Request(session, { ':path': '/h2', ':authority': 'y.b.test' });
      expect(misdirected.headers[':status']).toBe(421);
    } finally {
      session.close();
    }
  });
});

describe('h2c', () => {
  it('accepts cleartext HTTP/2 with prior knowledge from clients', async () => {
    const session = http2.connect(`http://127.0.0.1:${httpPort}`);
    try {
      const res = await h2Request(session, { ':path': '/prior-knowledge', ':authority': 'example.com' });
      expect(res.headers[':status']).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({
        backend: 'plain',
        url: '/prior-knowledge',
        host: 'example.com',
      });
    } finally {
      session.close();
    }
  });
  it('talks HTTP/2 to backends with appProtocol kubernetes.io/h2c', async () => {
    const res = await new Promise<string>((resolve, reject) => {
      http
        .get(
          {
            host: '127.0.0.1',
            port: httpPort,
            path: '/h2c/x',
            headers: { host: 'example.com' },
            agent: false,
          },
          (r) => {
            let body = '';
            r.on('data', (c) => (body += c));
            r.on('end', () => resolve(body));
          },
        )
        .on('error', reject);
    });
    expect(JSON.parse(res)).toMatchObject({ backend: 'h2c', httpVersion: '2.0', url: '/h2c/x' });
  });
});

describe('GRPCRoute', () => {
  const call = async (path: string, extra: Record<string, string> = {}) => {
    const session = http2.connect(`http://127.0.0.1:${httpPort}`);
    try {
      return await h2Request(
        session,
        {
          ':method': 'POST',
          ':path': path,
          ':authority': 'grpc.test',
          'content-type': 'application/grpc',
          te: 'trailers',
          ...extra,
        },
        Buffer.from([0, 0, 0, 0, 0]),
      );
    } finally {
      session.close();
    }
  };
  it('matches service and method, most specific first, and passes trailers', async () => {
    const hello = await call('/pkg.Greeter/Hello');
    expect(hello.headers['x-backend']).toBe('grpc-a');
    expect(hello.trailers['grpc-status']).toBe('0');
    expect(hello.trailers['grpc-message']).toBe('from grpc-a');
    expect((await call('/pkg.Greeter/Bye')).headers['x-backend']).toBe('grpc-b');
    expect((await call('/other.Svc/Any', { 'x-tenant': 'b' })).headers['x-backend']).toBe('grpc-b');
  });
  it('an unmatched method gets grpc-status UNIMPLEMENTED', async () => {
    const res = await call('/other.Svc/Any');
    expect(res.headers[':status']).toBe(200);
    expect(res.headers['grpc-status']).toBe('12');
  });
});

describe('WebSocket', () => {
  it('upgrades through the proxy and carries frames both ways', async () => {
    const socket = net.connect(httpPort, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    socket.write(
      `GET /ws/chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    let buf = Buffer.alloc(0);
    const read = (pred: (b: Buffer) => boolean) =>
      new Promise<Buffer>((resolve, reject) => {
        const check = () => (pred(buf) ? (socket.off('data', onData), resolve(buf)) : undefined);
        const onData = (c: Buffer) => ((buf = Buffer.concat([buf, c])), check());
        socket.on('data', onData);
        socket.once('error', reject);
        check();
      });
    const head = (await read((b) => b.includes('\r\n\r\n'))).toString();
    expect(head).toMatch(/^HTTP\/1\.1 101/);
    expect(head).toContain(
      `Sec-WebSocket-Accept: ${crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')}`,
    );
    expect(head).toContain('X-Seen-Path: /ws/chat?room=1');
    buf = buf.subarray(buf.indexOf('\r\n\r\n') + 4);
    const mask = Buffer.from([1, 2, 3, 4]);
    const text = Buffer.from('hello through the proxy');
    socket.write(
      Buffer.concat([
        Buffer.from([0x81, 0x80 | text.length]),
        mask,
        Buffer.from(text.map((b, i) => b ^ mask[i % 4]!)),
      ]),
    );
    const frame = await read((b) => b.length >= 2 + text.length);
    expect(frame[0]).toBe(0x81);
    expect(frame.subarray(2, 2 + text.length).toString()).toBe('hello through the proxy');
    socket.destroy();
  });
});
