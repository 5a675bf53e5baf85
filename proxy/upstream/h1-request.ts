// Serialises a request for an HTTP/1.1 upstream connection: the head (request line and the flat header
// list forward.ts builds) as one latin1 string, validated so that nothing a backend could read two ways is
// ever sent (names are tokens; values carry no CR, LF, NUL or other control character; the framing headers
// are ours to write), and a streamed body with backpressure (the client's Content-Length kept and
// enforced, else chunked). Any violation throws UpstreamRequestError before a byte is written.
import type { Socket } from 'node:net';
import type { RequestBody } from './dispatcher.ts';
import { UpstreamRequestError } from './errors.ts';
import { TOKEN } from './syntax.ts';

/** field-value: HTAB, SP, VCHAR, obs-text; nothing above U+00FF (latin1 could not carry it) */
const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
/** origin-form or asterisk-form: visible ASCII only */
const TARGET = /^(?:\/[\x21-\x7e]*|\*)$/;
const DIGITS = /^\d{1,15}$/;
/** connection management and framing are this client's to write, never the request's */
const REFUSED_NAMES = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect']);
/** methods whose bodiless requests still get `content-length: 0` (as undici sends them) */
const PAYLOAD_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Header names already validated, lower-cased (requests repeat the same few). */
const NAME_CACHE = new Map<string, string>();
const NAME_CACHE_SIZE = 2048;

function refuse(why: string): never {
  throw new UpstreamRequestError([why]);
}

function lowerName(name: string): string {
  let lower = NAME_CACHE.get(name);
  if (lower !== undefined) return lower;
  if (!TOKEN.test(name)) refuse('invalid header name');
  lower = name.toLowerCase();
  if (NAME_CACHE.size < NAME_CACHE_SIZE) NAME_CACHE.set(name, lower);
  return lower;
}

export function isStreamBody(body: RequestBody): body is NodeJS.ReadableStream | AsyncIterable<Buffer> {
  return body !== null && !Buffer.isBuffer(body);
}

/**
 * The request head, ending with the empty line. `host` is used when the list has no Host. The body decides
 * the framing: none (content-length: 0 for POST/PUT/PATCH), a Buffer (its length, which a Content-Length
 * in the list must match) or a stream (the list's Content-Length if any, else chunked).
 */
export function requestHead(
  method: string,
  path: string,
  headers: readonly string[],
  host: string,
  body: RequestBody,
): string {
  if (!TOKEN.test(method) || method === 'CONNECT') refuse(`method ${JSON.stringify(method)}`);
  if (!TARGET.test(path)) refuse('request target is not a visible-ASCII path');
  let head = `${method} ${path} HTTP/1.1\r\n`;
  let sawHost = false;
  let contentLength: string | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    const lower = lowerName(name);
    if (INVALID_VALUE.test(value)) refuse(`invalid character in the value of ${lower}`);
    if (lower === 'host') {
      if (sawHost) refuse('more than one Host header');
      sawHost = true;
    } else if (lower === 'content-length') {
      if (!DIGITS.test(value) || contentLength !== undefined) refuse('invalid Content-Length');
      contentLength = value;
    } else if (REFUSED_NAMES.has(lower)) refuse(`the ${lower} header is the client's to write`);
    head += `${name}: ${value}\r\n`;
  }
  if (!sawHost) head += `host: ${host}\r\n`;
  if (body === null) {
    if (contentLength === undefined && PAYLOAD_METHODS.has(method)) head += 'content-length: 0\r\n';
  } else if (Buffer.isBuffer(body)) {
    if (contentLength === undefined) head += `content-length: ${body.length}\r\n`;
    else if (Number(contentLength) !== body.length)
      refuse(`Content-Length ${contentLength} differs from the body's ${body.length} bytes`);
  } else if (contentLength === undefined) head += 'transfer-encoding: chunked\r\n';
  return `${head}connection: keep-alive\r\n\r\n`;
}

/** The Content-Length a (validated) header list declares, or -1. */
export function declaredLength(headers: readonly string[]): number {
  for (let i = 0; i < headers.length; i += 2)
    if ((headers[i] as string).toLowerCase() === 'content-length') return Number(headers[i + 1]);
  return -1;
}

/** Resolves once the socket can take more (or is gone: the next write or the state check says so). */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.removeListener('drain', done);
      socket.removeListener('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}

/** What the body writer watches: it stops (without error) once the exchange is over. */
export interface BodyWriteState {
  readonly done: boolean;
}

/**
 * Writes a streamed body after its head: exactly `declared` bytes when >= 0 (more or fewer throws), else
 * chunked. The source is never returned/destroyed here when the exchange ends early: an unread client body
 * is the client server's to handle (Node drains or closes it after the answer).
 */
export async function writeStreamBody(
  socket: Socket,
  body: NodeJS.ReadableStream | AsyncIterable<Buffer>,
  declared: number,
  state: BodyWriteState,
): Promise<void> {
  const it = (body as AsyncIterable<Buffer | string>)[Symbol.asyncIterator]();
  let sent = 0;
  for (;;) {
    const next = await it.next();
    if (state.done || socket.destroyed) return;
    if (next.done === true) break;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    if (chunk.length === 0) continue;
    sent += chunk.length;
    let more: boolean;
    if (declared >= 0) {
      if (sent > declared) refuse(`body longer than its Content-Length ${declared}`);
      more = socket.write(chunk);
    } else {
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      more = socket.write('\r\n', 'latin1');
      socket.uncork();
    }
    if (!more) {
      await drained(socket);
      if (state.done || socket.destroyed) return;
    }
  }
  if (declared >= 0) {
    if (sent !== declared) refuse(`body of ${sent} bytes is shorter than its Content-Length ${declared}`);
  } else socket.write('0\r\n\r\n', 'latin1');
}
