// Shared pieces of the proxy end-to-end tests: real local HTTP backends that echo what they received,
// a proxy started in-process on a snapshot the test controls (or on a manifest directory), a plain HTTP
// client that lets the test set Host and see raw headers, and self-signed certificates via openssl.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startProxy, type ProxyOptions, type RunningProxy } from '../../proxy/index.ts';
import { gateway, gatewayClass, httpListener, serviceObjects } from '../../proxy/model/builders.ts';
import type { KubeObject } from '../../proxy/model/gateway-api.ts';
import { inputsFromObjects } from '../../proxy/model/inputs.ts';
import { staticSource } from '../../proxy/sources/source.ts';

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  httpVersion: string;
  body: string;
}

export interface EchoBackend {
  name: string;
  port: number;
  /** "127.0.0.1:port" for EndpointSlices */
  endpoint: string;
  received: Received[];
  close(): Promise<void>;
}

/**
 * An HTTP/1.1 backend that answers JSON {backend, method, url, host, headers, body, httpVersion}.
 * `?delay=MS` waits first; `/status/NNN` answers that status; `/stream` sends three chunks 150 ms apart;
 * `x-echo-response-headers: a:b,c:d` sets response headers.
 */
export async function startEcho(
  name: string,
  options: { h2c?: boolean; host?: string } = {},
): Promise<EchoBackend> {
  const received: Received[] = [];
  // HTTP/2 compat responses share the members used here; one type keeps the handler simple
  const handler = (req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const url = req.url ?? '/';
      const body = Buffer.concat(chunks).toString();
      received.push({
        method: req.method ?? '',
        url,
        headers: req.headers as http.IncomingHttpHeaders,
        rawHeaders: req.rawHeaders,
        httpVersion: req.httpVersion,
        body,
      });
      const q = new URLSearchParams(url.split('?')[1] ?? '');
      const delay = Number(q.get('delay') ?? 0);
      if (delay) await new Promise((r) => setTimeout(r, delay));
      const status = /^\/status\/(\d{3})/.exec(url);
      const extra: Record<string, string> = {};
      for (const item of String(req.headers['x-echo-response-headers'] ?? '')
        .split(',')
        .filter(Boolean)) {
        const [k, v] = item.split(':') as [string, string];
        extra[k.trim()] = (v ?? '').trim();
      }
      if (url.startsWith('/stream')) {
        res.writeHead(200, { 'content-type': 'text/plain', ...extra });
        for (const part of ['one\n', 'two\n', 'three\n']) {
          res.write(part);
          await new Promise((r) => setTimeout(r, 150));
        }
        res.end();
        return;
      }
      const payload = JSON.stringify({
        backend: name,
        method: req.method,
        url,
        host: req.headers.host ?? req.headers[':authority'],
        headers: req.headers,
        body,
        httpVersion: req.httpVersion,
      });
      res.writeHead(status ? Number(status[1]) : 200, { 'content-type': 'application/json', ...extra });
      res.end(payload);
    });
  };
  const server: net.Server = options.h2c
    ? http2.createServer((req, res) => handler(req, res as unknown as http.ServerResponse))
    : http.createServer(handler);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const sessions = new Set<http2.Http2Session>();
  server.on('session', (s: http2.Http2Session) => sessions.add(s));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    name,
    port,
    endpoint: `${host}:${port}`,
    received,
    close: async () => {
      for (const s of sessions) s.destroy();
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(() => r(undefined)));
    },
  };
}

/** A port nobody listens on right now (for listeners and for "connection refused" backends). */
export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(() => r(undefined)));
  return port;
}

/** The GatewayClass and a Gateway `gw` in `namespace` with one HTTP listener `http` on 127.0.0.1:port. */
export function localGateway(namespace: string, port: number): KubeObject[] {
  return [
    gatewayClass(),
    gateway(namespace, 'gw', [httpListener('http', port)], { addresses: ['127.0.0.1'] }),
  ];
}

/** A Service (port 80) and its EndpointSlice per echo backend, each named after its backend. */
export function echoServices(namespace: string, backends: EchoBackend[]): KubeObject[] {
  return backends.flatMap((b) => serviceObjects(namespace, b.name, 80, [b.endpoint]));
}

/** Stops the proxy, then closes the backends (either may be missing when beforeAll failed part-way). */
export async function stopAll(
  proxy: TestProxy | undefined,
  backends: ({ close(): Promise<void> } | undefined)[],
): Promise<void> {
  await proxy?.stop();
  await Promise.all(backends.map((b) => b?.close()));
}

export interface TestProxy {
  proxy: RunningProxy;
  /** replaces the snapshot and waits until the proxy applied it */
  update(objects: KubeObject[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestProxy(
  objects: KubeObject[],
  options: Partial<ProxyOptions> = {},
): Promise<TestProxy> {
  const source = staticSource(inputsFromObjects(objects).inputs);
  const proxy = await startProxy({
    accessLog: { enabled: false },
    ...options,
    source: { kind: 'custom', source },
  });
  return {
    proxy,
    async update(next) {
      const applied = proxy.nextReload();
      source.update(inputsFromObjects(next).inputs);
      const event = await applied;
      if (!event.ok) throw new Error(`reload failed: ${event.error}`);
    },
    stop: () => proxy.stop(),
  };
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  /** the backend's echo, when the body is one */
  echo?: {
    backend: string;
    method: string;
    url: string;
    host: string;
    headers: Record<string, string | string[]>;
    body: string;
    httpVersion: string;
  };
}

export interface RequestOptions {
  host?: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  agent?: http.Agent | false;
  address?: string;
}

/** One HTTP/1.1 request to address:port with an explicit Host. */
export function request(port: number, path: string, o: RequestOptions = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: o.address ?? '127.0.0.1',
        port,
        path,
        method: o.method ?? 'GET',
        setHost: false,
        agent: o.agent ?? false,
        headers: { host: o.host ?? 'example.com', ...o.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString();
          let echo;
          if (res.headers['content-type'] === 'application/json') {
            try {
              echo = JSON.parse(body);
            } catch {
              echo = undefined;
            }
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawHeaders: res.rawHeaders,
            body,
            echo,
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(o.body);
  });
}

export interface Certificate {
  certPem: string;
  keyPem: string;
}

/** A self-signed certificate for these DNS names (openssl CLI). */
export function selfSignedCert(names: string[]): Certificate {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-cert-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '2',
        '-subj',
        `/CN=${names[0]}`,
        '-addext',
        `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      certPem: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
      keyPem: fs.readFileSync(path.join(dir, 'key.pem'), 'utf8'),
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns true or `timeoutMs` passes. */
export async function eventually(fn: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(100);
  }
}
