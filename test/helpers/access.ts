// Builders for tests of the access module (unit and e2e): AccessPolicies, Secrets, Namespaces, a policy
// engine on the built-in bundle, and a small HTTP server on the RequestPolicy seam that stands in for the
// proxy's pipeline (match → policies in order → first refusal answers).
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessPolicy } from '../../api/accesspolicy.ts';
import { PolicyEngine } from '../../policies/engine.ts';
import { builtinBundleBytes } from './policies.ts';
import type { Namespace, Secret } from '../../proxy/model/gateway-api.ts';
import { policyObject, type PolicyObjectOptions } from './policy-attachment.ts';
import type { AttachPolicies, PolicyAttachmentPoint, RequestContext } from '../../proxy/request-policy.ts';

export { point, request } from './ratelimit.ts';

export function accessPolicy(
  options: PolicyObjectOptions & { rule: string; parameters?: Record<string, unknown> },
): AccessPolicy {
  return policyObject(
    { ...options, kind: 'AccessPolicy', defaultName: 'access' },
    { rule: options.rule, ...(options.parameters !== undefined ? { parameters: options.parameters } : {}) },
  );
}

/** A Secret whose data holds the given entries (base64-encoded, as the API server serves them). */
export function secret(namespace: string, name: string, entries: Record<string, string>): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { namespace, name },
    type: 'Opaque',
    data: Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

export function namespace(name: string, tenant?: string): Namespace {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, ...(tenant ? { labels: { 'tenantgate.io/tenant': tenant } } : {}) },
  };
}

/** The real engine on the real built-in bundle (dist/policies/bundle.tar.gz from `make policies`). */
export async function builtinEngine(): Promise<PolicyEngine> {
  return PolicyEngine.create({ builtinBundle: builtinBundleBytes() });
}

export interface SeamServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * An HTTP server that, like the proxy's pipeline, asks the current hook for the policies of the request's
 * point and runs them in order; the first refusal answers with its status and reason, else 200 "ok".
 * `hook()` is read per request, so swapping it is a reload without a restart.
 */
export async function serveOnSeam(options: {
  hook: () => AttachPolicies;
  pointFor: (req: IncomingMessage) => PolicyAttachmentPoint;
}): Promise<SeamServer> {
  const server: Server = createServer(async (req, res) => {
    const point = options.pointFor(req);
    const ctx = contextOf(req, point);
    for (const policy of options.hook()(point)) {
      const verdict = await policy.evaluate(ctx);
      for (const [k, v] of Object.entries(verdict.headers ?? {})) res.setHeader(k, v);
      if (!verdict.allow) {
        res.writeHead(verdict.status, { 'content-type': 'text/plain' }).end(`${verdict.reason}\n`);
        return;
      }
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function contextOf(req: IncomingMessage, point: PolicyAttachmentPoint): RequestContext {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path: q >= 0 ? url.slice(0, q) : url,
    query: q >= 0 ? url.slice(q + 1) : '',
    host: req.headers.host ?? '',
    headers,
    sourceIp: req.socket.remoteAddress ?? '',
    gateway: { ...point.gateway, listener: point.listener },
    route: { ...point.route, ruleIndex: point.ruleIndex, ruleName: point.ruleName },
  };
}

/** One HTTP request from a chosen local address (any 127.x.y.z on loopback), a fresh connection each time. */
export function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; from?: string } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        localAddress: options.from ?? '127.0.0.1',
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}
