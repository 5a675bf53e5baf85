// Hot reload: a new snapshot swaps the route table without dropping a request in flight or a client's
// keep-alive connection; a listener that disappears stops being served; a snapshot change that moves a
// backend takes effect on the next request on the same connection.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateway, gatewayClass, httpListener, httpRoute } from '../../proxy/model/builders.ts';
import type { KubeObject } from '../../proxy/model/gateway-api.ts';
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

const NS = 'reload';
let one: EchoBackend, two: EchoBackend;
let proxy: TestProxy;
let port: number, extraPort: number;

const snapshot = (backend: string, extraListener = false): KubeObject[] => [
  gatewayClass(),
  gateway(
    NS,
    'gw',
    [httpListener('http', port), ...(extraListener ? [httpListener('extra', extraPort)] : [])],
    { addresses: ['127.0.0.1'] },
  ),
  ...echoServices(NS, [one, two]),
  httpRoute(NS, 'r', {
    parentRefs: [{ name: 'gw' }],
    rules: [{ backendRefs: [{ name: backend, port: 80 }] }],
  }),
];

beforeAll(async () => {
  [one, two] = await Promise.all([startEcho('one'), startEcho('two')]);
  [port, extraPort] = [await freePort(), await freePort()];
  proxy = await startTestProxy(snapshot('one', true));
});

afterAll(() => stopAll(proxy, [one, two]));

/** A request on a keep-alive agent, reporting the client-side port of the connection it used. */
function keepAliveGet(agent: http.Agent, path: string): Promise<{ backend: string; localPort: number }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path, agent, headers: { host: 'example.com' } },
      (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () =>
          resolve({ backend: JSON.parse(body).backend, localPort: req.socket!.localPort! }),
        );
      },
    );
    req.on('error', reject);
  });
}

describe('hot reload', () => {
  it('keeps in-flight requests and keep-alive connections across a table swap', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await keepAliveGet(agent, '/before');
      expect(first.backend).toBe('one');
      const slow = request(port, '/slow?delay=700');
      await new Promise((r) => setTimeout(r, 100)); // the slow request is now waiting on backend "one"
      await proxy.update(snapshot('two', true));
      const after = await keepAliveGet(agent, '/after');
      expect(after.backend).toBe('two');
      expect(after.localPort).toBe(first.localPort); // same client connection
      const finished = await slow;
      expect(finished.status).toBe(200);
      expect(finished.echo?.backend).toBe('one'); // the table it started with
    } finally {
      agent.destroy();
    }
  });

  it('stops serving a listener that was removed, keeps the others', async () => {
    expect((await request(extraPort, '/')).status).toBe(200);
    await proxy.update(snapshot('two', false));
    await expect(request(extraPort, '/')).rejects.toThrow(/ECONNREFUSED/);
    expect((await request(port, '/')).echo?.backend).toBe('two');
    expect(proxy.proxy.table?.generation).toBeGreaterThan(1);
  });
});
