// Shared pieces of the attached-policy end-to-end tests: real `tenantgate proxy --from-files DIR`
// processes (spawned from source, as a user would run them), a manifest directory with one Gateway, an
// echo backend Service and whatever routes and policies a test adds, Prometheus text from the admin
// address, and a gRPC-over-h2c call.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { eventually, freePort, request } from './proxy-harness.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ProxyProcess {
  readonly adminPort: number;
  readonly child: ChildProcess;
  /** everything the process wrote so far (stdout and stderr) */
  output(): string;
  /** the Prometheus text of /metrics */
  metrics(): Promise<string>;
  /** SIGTERM, then the exit code (SIGKILL after 10 s) */
  stop(): Promise<number | null>;
}

export interface SpawnOptions {
  dir: string;
  /** default 127.0.0.1 */
  bindAddress?: string;
  args?: string[];
  env?: Record<string, string>;
}

const spawned = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of spawned) c.kill('SIGKILL');
});

/** Starts `tenantgate proxy --from-files DIR` and resolves once /readyz answers 200. */
export async function spawnProxy(o: SpawnOptions): Promise<ProxyProcess> {
  const adminPort = await freePort();
  const child = spawn(
    path.join(ROOT, 'node_modules/.bin/node'),
    [
      path.join(ROOT, 'cmd/tenantgate.ts'),
      'proxy',
      '--from-files',
      o.dir,
      '--bind-address',
      o.bindAddress ?? '127.0.0.1',
      '--admin-address',
      `127.0.0.1:${adminPort}`,
      '--access-log',
      'off',
      ...(o.args ?? []),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, TENANTGATE_LOG_LEVEL: 'info', ...o.env },
    },
  );
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  let output = '';
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  const proc: ProxyProcess = {
    adminPort,
    child,
    output: () => output,
    metrics: async () => (await request(adminPort, '/metrics')).body,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  try {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`the proxy exited (${child.exitCode}):\n${output}`);
      return (await request(adminPort, '/readyz').catch(() => ({ status: 0 }))).status === 200;
    }, 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`proxy not ready: ${(err as Error).message}\n${output.slice(-2000)}`);
  }
  return proc;
}

/** A temporary manifest directory; `write` replaces one file atomically (write + rename). */
export function manifestDir(): {
  dir: string;
  write(file: string, content: string | Uint8Array): void;
  remove(): void;
} {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-policies-'));
  return {
    dir,
    write(file, content) {
      const tmp = path.join(dir, `.${file}.tmp`);
      fs.writeFileSync(tmp, content);
      fs.renameSync(tmp, path.join(dir, file));
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** YAML documents as one stream (each document's surrounding blank lines dropped). */
export function yamlDocuments(...documents: string[]): string {
  return `\n${documents.map((d) => d.trim()).join('\n---\n')}\n`;
}

/** The GatewayClass of the proxy's default controllerName. */
export const GATEWAY_CLASS_YAML = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: tenantgate}
spec: {controllerName: tenantgate.io/gateway-controller}
`;

/**
 * A Gateway with one HTTP listener on `port` (no addresses: --bind-address); `allowedRoutes` is the
 * listener's allowedRoutes as a YAML flow mapping.
 */
export function gatewayYaml(o: {
  name: string;
  namespace: string;
  port: number;
  allowedRoutes?: string;
}): string {
  const allowedRoutes = o.allowedRoutes ? `, allowedRoutes: ${o.allowedRoutes}` : '';
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${o.name}, namespace: ${o.namespace}}
spec:
  gatewayClassName: tenantgate
  listeners: [{name: http, port: ${o.port}, protocol: HTTP${allowedRoutes}}]
`;
}

/** Service `echo` (port 80) whose one endpoint is the echo backend on 127.0.0.1:`backendPort`. */
export function echoServiceYaml(namespace: string, backendPort: number): string {
  return `
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: ${namespace}}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: echo-1, namespace: ${namespace}, labels: {kubernetes.io/service-name: echo}}
addressType: IPv4
endpoints: [{addresses: [127.0.0.1], conditions: {ready: true}}]
ports: [{name: http, port: ${backendPort}}]
`;
}

/** GatewayClass, a Gateway `gw` with one HTTP listener on `port`, a Service `echo`. */
export function baseManifests(o: { namespace: string; port: number; backendPort: number }): string {
  return yamlDocuments(
    `
apiVersion: v1
kind: Namespace
metadata: {name: ${o.namespace}, labels: {tenantgate.io/tenant: acme}}
`,
    GATEWAY_CLASS_YAML,
    gatewayYaml({ name: 'gw', namespace: o.namespace, port: o.port }),
    echoServiceYaml(o.namespace, o.backendPort),
  );
}

/** An HTTPRoute `name` for host `host` to the echo Service. */
export function routeYaml(namespace: string, name: string, host: string): string {
  return `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  parentRefs: [{name: gw}]
  hostnames: [${host}]
  rules: [{backendRefs: [{name: echo, port: 80}]}]
`;
}

/** A RateLimitPolicy on HTTPRoute `route`; `limits` is the YAML flow sequence of spec.limits. */
export function rateLimitYaml(namespace: string, name: string, route: string, limits: string): string {
  return `
---
apiVersion: tenantgate.io/v1alpha1
kind: RateLimitPolicy
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: ${route}}]
  limits: ${limits}
`;
}

/** An AccessPolicy on a route of `kind`; `parameters` is a YAML flow mapping. */
export function accessYaml(o: {
  namespace: string;
  name: string;
  route: string;
  rule: string;
  parameters: string;
  kind?: 'HTTPRoute' | 'GRPCRoute';
}): string {
  return `
---
apiVersion: tenantgate.io/v1alpha1
kind: AccessPolicy
metadata: {name: ${o.name}, namespace: ${o.namespace}}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: ${o.kind ?? 'HTTPRoute'}, name: ${o.route}}]
  rule: ${o.rule}
  parameters: ${o.parameters}
`;
}

/** The value of one sample of a Prometheus text exposition (0 when absent). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([^{\s]+)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const ok = Object.entries(labels).every(([k, v]) => (m[2] ?? '').includes(`${k}="${v}"`));
    if (ok) return Number(m[3]);
  }
  return 0;
}

export interface GrpcAnswer {
  headers: http2.IncomingHttpHeaders;
}

/** One unary gRPC call over h2c (prior knowledge); the answer's headers (a refusal is trailers-only). */
export function grpcCall(port: number, authority: string, path: string): Promise<GrpcAnswer> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const stream = session.request({
      ':method': 'POST',
      ':path': path,
      ':authority': authority,
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    stream.on('response', (headers) => {
      stream.resume();
      stream.on('end', () => {
        session.close();
        resolve({ headers });
      });
    });
    stream.on('error', (err) => {
      session.close();
      reject(err);
    });
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}
