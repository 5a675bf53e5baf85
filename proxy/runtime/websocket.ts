// HTTP/1.1 upgrades (WebSocket, or any other protocol a client asks for): the upgrade request is routed
// like any other (authority and path checks, listener, match, policies, filters, weighted backend), then
// sent to the chosen endpoint on a fresh connection. The two sockets are joined only once the backend
// answers `101 Switching Protocols` naming the protocol the client asked for; until then nothing the client
// sent after its request head is read. Any other answer is relayed as an ordinary response and the
// connection closed, so bytes a client sends after a refused upgrade never reach a backend.
import http from 'node:http';
import type net from 'node:net';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { nextEndpoint } from './forward.ts';
import { modifyFlatHeaders, setFlatHeader, upstreamHeaders } from './headers.ts';
import { evaluatePolicies, requestContext, type PolicyOutcome } from './policies.ts';
import { chooseBackend, routeRequest, SERVED_METHODS, type RoutedRequest } from './route-request.ts';
import { hostWithoutPort, redirectLocation, rewritePath } from './url-filters.ts';
import { clientIp, logRefusal, type PipelineDeps } from './pipeline.ts';
import { statsSlot } from './metrics.ts';
import type { CompiledBackend, CompiledBind } from '../table/types.ts';

/** How long the backend has to accept the connection and answer the upgrade request. */
const BACKEND_ANSWER_TIMEOUT_MS = 10_000;
const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  421: 'Misdirected Request',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const RESPONSE_HOP_BY_HOP = /^(?:connection|keep-alive|transfer-encoding|upgrade|proxy-connection|trailer)$/i;

function statusLine(status: number, text?: string): string {
  return `HTTP/1.1 ${status} ${text || STATUS_TEXT[status] || 'Error'}\r\n`;
}

/** A short answer from the proxy itself; the connection is closed after it. */
function rawReply(
  socket: Duplex,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = message ? `${message}\n` : '';
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  const type = body ? 'content-type: text/plain; charset=utf-8\r\n' : '';
  socket.end(
    `${statusLine(status)}${type}content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n${extra}\r\n${body}`,
  );
}

/** The protocol tokens of an Upgrade header, lower-cased ("websocket", "h2c", ...). */
function upgradeTokens(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value.join(',') : value)
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
}

/** The backend's 101 names a protocol the client asked for (RFC 9110 §7.8). */
function upgradeMatches(asked: string[], answered: string | string[] | undefined): boolean {
  const got = upgradeTokens(answered);
  return got.length > 0 && got.every((t) => asked.includes(t));
}

/** Relays a non-101 answer as an ordinary response, then closes the client connection. */
function relayResponse(socket: Duplex, res: IncomingMessage): void {
  let head = statusLine(res.statusCode ?? 502, res.statusMessage);
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (RESPONSE_HOP_BY_HOP.test(raw[i] as string)) continue;
    head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  // without its content-length the body (de-chunked by the client parser) ends with the connection
  socket.write(`${head}connection: close\r\n\r\n`);
  res.pipe(socket);
  res.on('error', () => socket.destroy());
}

function join(
  client: Duplex,
  upstream: net.Socket,
  res: IncomingMessage,
  upstreamHead: Buffer,
  head: Buffer,
): void {
  let out = statusLine(101, res.statusMessage);
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) out += `${raw[i]}: ${raw[i + 1]}\r\n`;
  client.write(`${out}\r\n`);
  if (upstreamHead.length) client.write(upstreamHead);
  // what the client sent after its request head is for the new protocol: only now may it go on
  if (head.length) upstream.write(head);
  upstream.setTimeout(0);
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
  asked: string[],
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
  headers.push('connection', 'Upgrade', 'upgrade', String(req.headers.upgrade));
  const endpoint = nextEndpoint(backend);
  let answered = false;
  let connected = false;
  const fail = (status: number, message: string, error: string) => {
    if (answered) return;
    answered = true;
    upstreamReq.destroy();
    rawReply(socket, status, message);
    done(status, error);
  };
  const upstreamReq = http.request({
    host: endpoint.address,
    port: endpoint.port,
    method: req.method ?? 'GET',
    path: path + routed.search,
    headers,
    setHost: false,
    agent: false,
    timeout: BACKEND_ANSWER_TIMEOUT_MS,
  });
  upstreamReq.on('socket', (s: net.Socket) => s.once('connect', () => (connected = true)));
  upstreamReq.on('timeout', () =>
    connected
      ? fail(504, 'upstream timeout', 'no answer to the upgrade request')
      : fail(502, 'upstream connect error', 'connect timeout'),
  );
  upstreamReq.on('error', (err) =>
    fail(502, connected ? 'upstream reset before response' : 'upstream connect error', err.message),
  );
  upstreamReq.on('upgrade', (res: IncomingMessage, upstream: net.Socket, upstreamHead: Buffer) => {
    if (answered) return void upstream.destroy();
    if (!upgradeMatches(asked, res.headers.upgrade)) {
      upstream.destroy();
      return fail(502, 'upstream switched to a protocol the client did not ask for', 'upgrade mismatch');
    }
    answered = true;
    join(socket, upstream, res, upstreamHead, head);
    done(101);
  });
  upstreamReq.on('response', (res: IncomingMessage) => {
    if (answered) return void res.destroy();
    answered = true;
    // a refused upgrade: the answer is relayed and the connection ends here
    relayResponse(socket, res);
    done(res.statusCode ?? 502);
  });
  socket.once('close', () => {
    if (!answered) {
      answered = true;
      upstreamReq.destroy();
      done(499, 'client closed the connection');
    }
  });
  upstreamReq.end();
}

/** An upgrade request that carries a body cannot be relayed byte-exactly; it is refused. */
function hasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  return (cl !== undefined && cl !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export function handleUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  bind: CompiledBind | undefined,
  deps: PipelineDeps,
): void {
  const started = performance.now();
  // nothing after the request head is read until the backend has agreed to switch protocols
  socket.pause();
  socket.on('error', () => socket.destroy());
  if (!bind) return rawReply(socket, 404, 'this listener is no longer served');
  const routed = routeRequest(req, bind, deps.requestTarget);
  if (!('entry' in routed)) {
    logRefusal(deps, req, routed);
    if (routed.location !== undefined)
      return rawReply(socket, routed.status, '', { location: routed.location });
    if (routed.status === 200) return rawReply(socket, 200, '', { allow: SERVED_METHODS });
    return rawReply(socket, routed.status, routed.message);
  }
  const { rule, listener } = routed;
  const asked = upgradeTokens(req.headers.upgrade);
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
  if (hasBody(req)) {
    const message = 'an upgrade request must not carry a body';
    logRefusal(deps, req, { status: 400, rule: 'upgrade.body', message, grpc: false });
    done(400);
    return rawReply(socket, 400, message);
  }
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
      return rawReply(socket, redirect.statusCode, '', { location });
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
    connectBackend(req, socket, head, routed, backend, asked, (status) => done(status, backend));
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
