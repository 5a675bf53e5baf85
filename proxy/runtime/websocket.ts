// WebSocket (HTTP/1.1 Upgrade) pass-through: the upgrade request is routed like any other (listener,
// match, policies, filters, weighted backend), then written to a fresh TCP connection to the chosen
// endpoint and the two sockets are spliced; the backend's 101 answer and every frame flow verbatim.
import net from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { nextEndpoint } from './forward.ts';
import { modifyFlatHeaders, setFlatHeader, upstreamHeaders } from './headers.ts';
import { evaluatePolicies, requestContext, type PolicyOutcome } from './policies.ts';
import { chooseBackend, routeRequest, type RoutedRequest } from './route-request.ts';
import { hostWithoutPort, redirectLocation, rewritePath } from './url-filters.ts';
import { clientIp, type PipelineDeps } from './pipeline.ts';
import { statsSlot } from './metrics.ts';
import type { CompiledBackend, CompiledBind } from '../table/types.ts';

const CONNECT_TIMEOUT_MS = 5000;
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  421: 'Misdirected Request',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

function rawReply(
  socket: Duplex,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = `${message}\n`;
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${extra}\r\n${body}`,
  );
}

function upgradeRequestHead(method: string, path: string, headers: string[], upgrade: string): string {
  let head = `${method} ${path} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}connection: Upgrade\r\nupgrade: ${upgrade}\r\n\r\n`;
}

function splice(
  client: Duplex,
  upstream: net.Socket,
  head: Buffer,
  onStatus: (status: number) => void,
): void {
  let first = true;
  upstream.on('data', (chunk: Buffer) => {
    if (first) {
      first = false;
      const m = /^HTTP\/1\.\d (\d{3})/.exec(chunk.toString('latin1', 0, 16));
      onStatus(m ? Number(m[1]) : 502);
    }
  });
  if (head.length) upstream.write(head);
  client.pipe(upstream);
  upstream.pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
}

function connectBackend(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  routed: RoutedRequest,
  backend: CompiledBackend,
  deps: PipelineDeps,
  done: (status: number, error?: string) => void,
): void {
  const { rule, listener, entry } = routed;
  let headers = upstreamHeaders(
    req.rawHeaders,
    { clientIp: clientIp(req), proto: listener.scheme, host: routed.rawHost },
    undefined,
  );
  if (rule.requestHeaders) headers = modifyFlatHeaders(headers, rule.requestHeaders);
  if (backend.requestHeaders) headers = modifyFlatHeaders(headers, backend.requestHeaders);
  const rewrite = backend.rewrite ?? rule.rewrite;
  let path = routed.path;
  if (rewrite) {
    if (rewrite.hostname !== undefined) headers = setFlatHeader(headers, 'host', rewrite.hostname);
    path = rewritePath(path, rewrite.path, entry);
  }
  const endpoint = nextEndpoint(backend);
  const upstream = net.connect({ host: endpoint.address, port: endpoint.port });
  upstream.setTimeout(CONNECT_TIMEOUT_MS);
  const fail = (err: Error) => {
    upstream.destroy();
    rawReply(socket, 502, 'upstream connect error');
    done(502, err.message);
  };
  upstream.once('timeout', () => fail(new Error('connect timeout')));
  upstream.once('error', fail);
  upstream.once('connect', () => {
    upstream.setTimeout(0);
    upstream.removeListener('error', fail);
    upstream.write(
      upgradeRequestHead(req.method ?? 'GET', path + routed.search, headers, String(req.headers.upgrade)),
    );
    splice(socket, upstream, head, (status) => done(status));
  });
}

export function handleUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  bind: CompiledBind | undefined,
  deps: PipelineDeps,
): void {
  const started = performance.now();
  socket.on('error', () => socket.destroy());
  if (!bind) return rawReply(socket, 404, 'this listener is no longer served');
  const routed = routeRequest(req, bind);
  if (!('entry' in routed)) return rawReply(socket, routed.status, routed.message);
  const { rule, listener } = routed;
  let recorded = false;
  const done = (status: number, backend?: CompiledBackend) => {
    if (recorded) return;
    recorded = true;
    const slot = backend ?? rule;
    (slot.stats ??= statsSlot(listener.gatewayLabel, rule.routeLabel, backend?.label ?? '')).record(
      status,
      (performance.now() - started) / 1000,
    );
  };
  const proceed = (outcome: PolicyOutcome) => {
    if (!outcome.allow) {
      done(outcome.status);
      return rawReply(socket, outcome.status, outcome.reason, outcome.headers);
    }
    if (rule.invalid !== undefined) return (done(500), rawReply(socket, 500, 'route rule is invalid'));
    const redirect = rule.redirect;
    if (redirect) {
      const location = redirectLocation(
        redirect,
        {
          scheme: listener.scheme,
          host: hostWithoutPort(routed.rawHost),
          path: routed.path,
          query: routed.search.slice(1),
          listenerPort: listener.port,
        },
        routed.entry,
      );
      done(redirect.statusCode);
      return void socket.end(
        `HTTP/1.1 ${redirect.statusCode} Redirect\r\nlocation: ${location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
      );
    }
    const backend = chooseBackend(rule);
    if (!backend) return (done(500), rawReply(socket, 500, 'route rule has no backends'));
    if (backend.errorStatus !== undefined)
      return (
        done(backend.errorStatus, backend),
        rawReply(
          socket,
          backend.errorStatus,
          backend.errorStatus === 503 ? 'no healthy upstream' : 'backend not resolved',
        )
      );
    connectBackend(req, socket, head, routed, backend, deps, (status) => done(status, backend));
  };
  if (rule.policies.length === 0) return proceed({ allow: true });
  try {
    const outcome = evaluatePolicies(rule.policies, requestContext(req, routed, clientIp(req)));
    if (outcome instanceof Promise)
      outcome
        .then(proceed, () => proceed({ allow: false, status: 500, reason: 'policy evaluation failed' }))
        .catch(() => socket.destroy());
    else proceed(outcome);
  } catch {
    proceed({ allow: false, status: 500, reason: 'policy evaluation failed' });
  }
}
