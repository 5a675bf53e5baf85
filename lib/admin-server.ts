// The admin HTTP endpoint every component serves: /healthz (the process is alive), /readyz (every
// registered readiness check passes) and /metrics (Prometheus text from the shared registry).
import http from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { defineError } from './errors.ts';
import { collectMetrics, registry } from './metrics.ts';

export type ReadinessCheck = () => boolean | string;

export interface AdminServerOptions {
  /** host:port, e.g. 127.0.0.1:9901; port 0 picks a free one */
  address: string;
  readiness?: Record<string, ReadinessCheck>;
}

export interface AdminServer {
  readonly address: string;
  addReadinessCheck(name: string, check: ReadinessCheck): void;
  close(): Promise<void>;
}

export const InvalidAddressError = defineError(
  'TG_INVALID_ADDRESS',
  "invalid address '%s': %s (write host:port, e.g. 127.0.0.1:9901, [::1]:9901 or :9901)",
);

export function parseHostPort(address: string, defaultHost = '127.0.0.1'): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!m) throw new InvalidAddressError([address, 'expected host:port']);
  const port = Number(m[3]);
  if (port > 65535) throw new InvalidAddressError([address, `port ${port} is above 65535`]);
  return { host: m[1] ?? (m[2] || defaultHost), port };
}

/** Listens on host:port (port 0 picks a free one); resolves with the bound "address:port". */
export async function listenOn(server: Server, address: string): Promise<string> {
  const { host, port } = parseHostPort(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return `${bound.address}:${bound.port}`;
}

/**
 * Stops listening and ends open connections at once: a plain close() would wait for keep-alive clients
 * (the API server, load generators) to go idle.
 */
export function closeNow(server: Server & { closeAllConnections(): void }): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const checks = new Map<string, ReadinessCheck>(Object.entries(options.readiness ?? {}));
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' || path === '/livez') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (path === '/readyz') {
      const failing = [...checks].flatMap(([name, check]) => {
        const result = check();
        return result === true ? [] : [`${name}: ${result === false ? 'not ready' : result}`];
      });
      res
        .writeHead(failing.length ? 503 : 200, { 'content-type': 'text/plain' })
        .end(failing.length ? failing.join('\n') + '\n' : 'ok\n');
    } else if (path === '/metrics') {
      collectMetrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  return {
    address: await listenOn(server, options.address),
    addReadinessCheck: (name, check) => void checks.set(name, check),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
