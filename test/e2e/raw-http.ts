// A raw HTTP/1.1 client for the end-to-end tests that must send exactly the bytes an attacker would
// (curl and Node's http client normalise targets, refuse duplicate Host headers, and never smuggle), and
// a parser for what comes back: the responses in order, and whether the proxy closed the connection.
import net from 'node:net';
import tls from 'node:tls';

export interface RawResponse {
  status: number;
  /** header names lower-cased; repeated headers joined with ', ' */
  headers: Record<string, string>;
  body: string;
}

export interface RawExchange {
  responses: RawResponse[];
  /** everything received */
  raw: string;
  /** the proxy closed the connection (before `waitMs` passed) */
  closed: boolean;
}

export interface RawOptions {
  /** give up waiting for the close after this long (default 3000 ms) */
  waitMs?: number;
  /** written once the first response has fully arrived (e.g. bytes after a refused upgrade) */
  afterFirstResponse?: string | Buffer;
  tls?: { servername: string; ca: string };
  /** default 127.0.0.1 */
  address?: string;
}

/** Writes `bytes` to address:port as given, reads until the connection closes (or waitMs passes). */
export function rawExchange(port: number, bytes: string | Buffer, o: RawOptions = {}): Promise<RawExchange> {
  return new Promise((resolve, reject) => {
    const host = o.address ?? '127.0.0.1';
    const socket: net.Socket = o.tls
      ? tls.connect({ host, port, servername: o.tls.servername, ca: o.tls.ca, ALPNProtocols: ['http/1.1'] })
      : net.connect(port, host);
    let buf = Buffer.alloc(0);
    let followed = false;
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const raw = buf.toString('latin1');
      resolve({ responses: parseResponses(raw), raw, closed });
    };
    const timer = setTimeout(() => finish(false), o.waitMs ?? 3000);
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (o.afterFirstResponse !== undefined && !followed && parseResponses(buf.toString('latin1')).length) {
        followed = true;
        socket.write(o.afterFirstResponse);
      }
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // a reset after the answer is a close too
      if (buf.length) finish(true);
      else if (!settled) {
        settled = true;
        clearTimeout(timer);
        reject(err);
      }
    });
    socket.once(o.tls ? 'secureConnect' : 'connect', () => socket.write(bytes));
  });
}

/** The complete responses in `raw` (content-length, chunked, or a body up to the end). */
export function parseResponses(raw: string): RawResponse[] {
  const out: RawResponse[] = [];
  let rest = raw;
  while (rest.startsWith('HTTP/')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const lines = rest.slice(0, end).split('\r\n');
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '')?.[1] ?? 0);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    let body = '';
    let after = rest.slice(end + 4);
    if (status === 101 || status === 204 || status === 304) {
      // no body
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (Buffer.byteLength(after, 'latin1') < n) break;
      body = after.slice(0, n);
      after = after.slice(n);
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      let pos = 0;
      let complete = false;
      for (;;) {
        const eol = after.indexOf('\r\n', pos);
        if (eol < 0) break;
        const size = parseInt(after.slice(pos, eol), 16);
        if (size === 0) {
          pos = eol + 4;
          complete = true;
          break;
        }
        body += after.slice(eol + 2, eol + 2 + size);
        pos = eol + 2 + size + 2;
      }
      if (!complete) break;
      after = after.slice(pos);
    } else {
      body = after;
      after = '';
    }
    out.push({ status, headers, body });
    rest = after;
  }
  return out;
}

/** The JSON an echo backend (proxy-harness.ts startEcho) answered with, or undefined. */
export function echoOf(
  r: RawResponse | undefined,
): { backend: string; url: string; host: string } | undefined {
  if (!r || !(r.headers['content-type'] ?? '').startsWith('application/json')) return undefined;
  try {
    return JSON.parse(r.body);
  } catch {
    return undefined;
  }
}
