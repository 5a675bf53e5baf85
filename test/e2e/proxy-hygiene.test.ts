// Proxy hygiene through the real proxy: X-Forwarded-*, hop-by-hop headers removed both ways, streamed
// bodies, request body size limit, the headers timeout against slow clients, the JSON access log with
// sampling, and Prometheus metrics by gateway/route/backend/status on the admin endpoint.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpRoute } from '../../proxy/model/builders.ts';
import {
  echoServices,
  freePort,
  localGateway,
  request,
  startEcho,
  startTestProxy,
  stopAll,
  type EchoBackend,
  type TestProxy,
} from './proxy-harness.ts';

const NS = 'hygiene';
let backend: EchoBackend;
let proxy: TestProxy;
let port: number;
let adminPort: number;
const logLines: string[] = [];

beforeAll(async () => {
  backend = await startEcho('backend');
  [port, adminPort] = [await freePort(), await freePort()];
  proxy = await startTestProxy(
    [
      ...localGateway(NS, port),
      ...echoServices(NS, [backend]),
      httpRoute(NS, 'r', {
        parentRefs: [{ name: 'gw' }],
        rules: [{ backendRefs: [{ name: 'backend', port: 80 }] }],
      }),
    ],
    {
      adminAddress: `127.0.0.1:${adminPort}`,
      limits: { maxBodyBytes: 1024, headersTimeoutMs: 500 },
      accessLog: { enabled: true, sampleRate: 0, write: (line) => void logLines.push(line) },
    },
  );
});

afterAll(() => stopAll(proxy, [backend]));

describe('forwarding headers', () => {
  it('adds X-Forwarded-For/-Proto/-Host, appending to an incoming X-Forwarded-For', async () => {
    const res = await request(port, '/', {
      host: 'shop.example:8080',
      headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'https' },
    });
    expect(res.echo?.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1');
    expect(res.echo?.headers['x-forwarded-proto']).toBe('http');
    expect(res.echo?.headers['x-forwarded-host']).toBe('shop.example:8080');
  });
  it('removes hop-by-hop headers, and those Connection names, in both directions', async () => {
    const res = await request(port, '/', {
      headers: {
        connection: 'keep-alive, x-hop',
        'x-hop': '1',
        'keep-alive': 'timeout=1',
        'proxy-connection': 'x',
        'x-end-to-end': 'yes',
      },
    });
    const seen = res.echo!.headers;
    expect(seen['x-hop']).toBeUndefined();
    expect(seen['proxy-connection']).toBeUndefined();
    expect(seen['x-end-to-end']).toBe('yes');
    // the backend (Node) answers "Keep-Alive: timeout=5"; the client sees the proxy's own connection header
    expect(res.headers['keep-alive']).not.toBe('timeout=5');
  });
});

describe('bodies', () => {
  it('streams responses as they come', async () => {
    const times: number[] = [];
    const start = Date.now();
    await new Promise<void>((resolve, reject) => {
      http
        .get(
          { host: '127.0.0.1', port, path: '/stream', headers: { host: 'example.com' }, agent: false },
          (res) => {
            res.on('data', () => times.push(Date.now() - start));
            res.on('end', () => resolve());
          },
        )
        .on('error', reject);
    });
    // three chunks, 150 ms apart at the backend: the first must not wait for the last
    expect(times.length).toBeGreaterThanOrEqual(2);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(200);
  });
  it('passes request bodies through', async () => {
    const res = await request(port, '/upload', {
      method: 'POST',
      body: 'x'.repeat(1000),
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.echo?.body).toBe('x'.repeat(1000));
  });
  it('refuses bodies over the limit with 413, declared or chunked', async () => {
    expect((await request(port, '/upload', { method: 'POST', body: 'x'.repeat(2000) })).status).toBe(413);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: '/upload',
          method: 'POST',
          agent: false,
          headers: { host: 'example.com', 'transfer-encoding': 'chunked' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 4; i++) req.write('y'.repeat(600));
      req.end();
    });
    expect(chunked).toBe(413);
  });
});

describe('header size limit', () => {
  it('answers 431 to request headers over the limit (16 KiB by default)', async () => {
    const res = await request(port, '/', { headers: { 'x-big': 'x'.repeat(20_000) } });
    expect(res.status).toBe(431);
  });
});

describe('slow clients', () => {
  it('closes a connection that does not finish its headers in time', async () => {
    const socket = net.connect(port, '127.0.0.1');
    socket.write('GET / HTTP/1.1\r\nHost: example.com\r\n'); // and never the blank line
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      let data = '';
      socket.on('data', (c) => (data += c));
      socket.on('close', () => resolve(data));
      socket.on('error', () => resolve(data));
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(answer === '' || answer.startsWith('HTTP/1.1 408')).toBe(true);
  });
});

describe('observability', () => {
  it('serves /healthz and /readyz on the admin address', async () => {
    expect((await request(adminPort, '/healthz')).status).toBe(200);
    expect((await request(adminPort, '/readyz')).status).toBe(200);
  });
  it('exports request counts and latency histograms by gateway, route, backend and status', async () => {
    await request(port, '/status/503');
    const text = (await request(adminPort, '/metrics')).body;
    expect(text).toMatch(
      /tenantgate_proxy_requests_total\{gateway="hygiene\/gw",route="hygiene\/r",backend="hygiene\/backend:80",code="200"\} \d+/,
    );
    expect(text).toMatch(
      /tenantgate_proxy_requests_total\{gateway="hygiene\/gw",route="hygiene\/r",backend="hygiene\/backend:80",code="503"\} 1/,
    );
    expect(text).toMatch(
      /tenantgate_proxy_request_duration_seconds_bucket\{le="0.005",gateway="hygiene\/gw",route="hygiene\/r",backend="hygiene\/backend:80"\} \d+/,
    );
    expect(text).toMatch(/tenantgate_proxy_route_table_generation 1/);
  });
  it('logs JSON access lines; with sampling at 0 only server errors are logged', async () => {
    logLines.length = 0;
    await request(port, '/ok');
    await request(port, '/status/502');
    const entries = logLines.map((l) => JSON.parse(l));
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      type: 'access',
      status: 502,
      method: 'GET',
      path: '/status/502',
      gateway: 'hygiene/gw',
      route: 'hygiene/r',
      backend: 'hygiene/backend:80',
    });
    expect(typeof entries[0].durationMs).toBe('number');
  });
});
