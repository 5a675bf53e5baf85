// A tiny HTTP echo server that `tenantgate local` runs as the backend of config/samples/tenant/: a local
// control plane has no kubelet to run Pods, so the sample's endpoints point here. It answers every request
// with what it received, as JSON, like the Gateway API conformance echo backend.
import http from 'node:http';
import { closeNow, listenOn } from '../lib/admin-server.ts';

export interface EchoBackend {
  readonly address: string;
  close(): Promise<void>;
}

export async function startEchoBackend(address: string): Promise<EchoBackend> {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({
        path: req.url,
        host: req.headers.host,
        method: req.method,
        headers: req.headers,
        backend: 'tenantgate-local-echo',
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end(body + '\n');
    });
  });
  return {
    address: await listenOn(server, address),
    close: () => closeNow(server),
  };
}
