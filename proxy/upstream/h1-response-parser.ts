// A strict, incremental HTTP/1.1 response parser (RFC 9112) for the proxy's upstream connections. It is
// fed socket chunks as they come and calls its sink with the final response head, body slices (views of
// the chunk given, never copies: valid during the call only, as the chunk may be a reused read buffer — a
// sink copies what it keeps) and the end with trailers. Anything the RFC does not allow, or that
// two parsers could read two ways, throws UpstreamProtocolError: the caller then fails the exchange and
// destroys the connection, so that bytes of a response never reach another request (response smuggling).
//
// Framing (RFC 9112 §6.3): no body after HEAD, 204 and 304; Transfer-Encoding whose final coding is
// chunked → chunked (sizes and extensions bounded, trailers parsed); another final coding → the body runs
// to the close; Transfer-Encoding with Content-Length, or in an HTTP/1.0 answer → refused; Content-Length
// values must all be the same digits; neither → the body runs to the close. 1xx answers before the final
// one are skipped (they carry no body); 101 never belongs on this path (upgrades go elsewhere) → refused.
import type { ResponseHeaders } from './dispatcher.ts';
import { UpstreamProtocolError } from './errors.ts';
import { TOKEN } from './syntax.ts';

export interface ResponseSink {
  /** The final (status >= 200) response head. The parser's keepAlive fields are set before this call. */
  onHead(statusCode: number, headers: ResponseHeaders): void;
  onBody(chunk: Buffer): void;
  onComplete(trailers: ResponseHeaders): void;
}

// Header objects inherit from an empty null-prototype object: no inherited names ('constructor',
// '__proto__' would otherwise collide with header names) while keeping V8's fast properties.
const NO_NAMES: object = Object.create(null) as object;
export function newHeaders(): ResponseHeaders {
  return Object.create(NO_NAMES) as ResponseHeaders;
}
const NO_TRAILERS: ResponseHeaders = Object.freeze(newHeaders());

const HEAD = 0;
const BODY_LENGTH = 1;
const BODY_CLOSE = 2;
const CHUNK_SIZE = 3;
const CHUNK_BWS = 4;
const CHUNK_EXT = 5;
const CHUNK_SIZE_LF = 6;
const CHUNK_DATA = 7;
const CHUNK_DATA_CR = 8;
const CHUNK_DATA_LF = 9;
const TRAILERS = 10;
const DONE = 11;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const SEMICOLON = 59;
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** Bounds: a chunk-size line's hex digits (leading zeros count), its extensions, interim answers. */
const MAX_CHUNK_SIZE_DIGITS = 16;
const MAX_CHUNK_EXTENSION_BYTES = 1024;
const MAX_INTERIM_RESPONSES = 16;
/** Content-Length digits: up to 15 stay an exact integer (and a petabyte is plenty). */
const MAX_CONTENT_LENGTH_DIGITS = 15;

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: [\t\x20-\x7e\x80-\xff]*)?$/;
/** CTLs other than HTAB: CR, LF and NUL among them. */
const INVALID_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const DIGITS = /^\d+$/;
const KEEP_ALIVE_TIMEOUT = /(?:^|[\s,;])timeout\s*=\s*(\d{1,9})(?:$|[\s,;])/i;

/** A checked field line: lower-case name, value without surrounding whitespace. */
interface FieldLine {
  name: string;
  value: string;
  /** one of the fields that decide framing or connection reuse */
  framing: boolean;
}

const FRAMING_FIELDS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

/** Checked field lines (a backend repeats the same few lines; only Date changes), emptied when full. */
const LINE_CACHE = new Map<string, FieldLine>();
const LINE_CACHE_SIZE = 1024;
const MAX_CACHED_LINE = 256;

function fail(why: string): never {
  throw new UpstreamProtocolError([why]);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const l = c | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** Checks one field line (RFC 9112 §5: token name, colon, optional whitespace, value without CTLs). */
function fieldLine(line: string): FieldLine {
  const colon = line.indexOf(':');
  if (colon < 0) fail('header line without a colon');
  const raw = line.slice(0, colon);
  // also refuses obs-fold (a line starting with whitespace) and whitespace before the colon
  if (!TOKEN.test(raw)) fail('invalid header name');
  const name = raw.toLowerCase();
  let vs = colon + 1;
  let ve = line.length;
  let c = line.charCodeAt(vs);
  while (vs < ve && (c === SP || c === HTAB)) c = line.charCodeAt(++vs);
  c = line.charCodeAt(ve - 1);
  while (ve > vs && (c === SP || c === HTAB)) c = line.charCodeAt(--ve - 1);
  const value = line.slice(vs, ve);
  if (INVALID_VALUE.test(value)) fail(`invalid character in the value of ${name}`);
  return { name, value, framing: FRAMING_FIELDS.has(name) };
}

export class H1ResponseParser {
  readonly #sink: ResponseSink;
  readonly #maxHeaderBytes: number;
  #state = DONE;
  #headRequest = false;
  #halted = false;
  #interim = 0;
  /** bytes of a header or trailer section split across chunks */
  #pending: Buffer | null = null;
  /** body bytes left (Content-Length) or bytes left in the current chunk; the chunk size while reading it */
  #remaining = 0;
  #digits = 0;
  #extensionBytes = 0;
  // framing fields of the head being parsed
  #contentLength = -1;
  #transferEncoding = false;
  #chunkedLast = false;
  #close = false;
  #keepAliveSeconds = -1;
  /** the backend lets the connection be reused after this response (HTTP/1.1, no `Connection: close`) */
  keepAlive = false;
  /** the backend's `Keep-Alive: timeout=N` in milliseconds, or -1 */
  keepAliveTimeoutMs = -1;

  constructor(sink: ResponseSink, maxHeaderBytes: number) {
    this.#sink = sink;
    this.#maxHeaderBytes = maxHeaderBytes;
  }

  /** Prepares for the response to a new request (`headRequest`: a HEAD request, whose answer has no body). */
  reset(headRequest: boolean): void {
    this.#state = HEAD;
    this.#headRequest = headRequest;
    this.#halted = false;
    this.#interim = 0;
    this.#pending = null;
    this.keepAlive = false;
    this.keepAliveTimeoutMs = -1;
    this.#resetFraming();
  }

  /** Stops the parse in progress (the exchange was aborted from a sink callback). */
  halt(): void {
    this.#halted = true;
  }

  get complete(): boolean {
    return this.#state === DONE;
  }

  /**
   * Parses the next bytes of the response. Returns how many bytes follow the end of the message in this
   * chunk (0 while it is incomplete): bytes the backend had no business sending.
   */
  execute(chunk: Buffer): number {
    let buf = chunk;
    let off = 0;
    while (off < buf.length) {
      if (this.#halted) return 0;
      switch (this.#state) {
        case HEAD:
        case TRAILERS: {
          let searchFrom = off;
          const pending = this.#pending;
          if (pending !== null) {
            this.#pending = null;
            searchFrom = Math.max(0, pending.length - 3);
            buf = Buffer.concat([pending, off === 0 ? buf : buf.subarray(off)]);
            off = 0;
          }
          if (this.#state === TRAILERS && buf[off] === CR) {
            // no trailer fields: the section is the final CRLF alone
            if (off + 1 >= buf.length) {
              this.#pending = Buffer.from(buf.subarray(off)); // the chunk may be a reused read buffer
              return 0;
            }
            if (buf[off + 1] !== LF) fail('bare CR after the last chunk');
            off += 2;
            this.#complete(NO_TRAILERS);
            continue;
          }
          const end = buf.indexOf(CRLFCRLF, searchFrom);
          if (end < 0) {
            if (buf.length - off > this.#maxHeaderBytes)
              fail(`header section larger than ${this.#maxHeaderBytes} bytes`);
            this.#pending = Buffer.from(buf.subarray(off)); // the chunk may be a reused read buffer
            return 0;
          }
          if (end + 4 - off > this.#maxHeaderBytes)
            fail(`header section larger than ${this.#maxHeaderBytes} bytes`);
          const text = buf.toString('latin1', off, end);
          off = end + 4;
          if (this.#state === HEAD) this.#head(text);
          else {
            const trailers = newHeaders();
            this.#fields(text, 0, trailers, false);
            this.#complete(trailers);
          }
          continue;
        }
        case BODY_LENGTH: {
          const n = Math.min(this.#remaining, buf.length - off);
          const slice = off === 0 && n === buf.length ? buf : buf.subarray(off, off + n);
          off += n;
          this.#remaining -= n;
          this.#sink.onBody(slice);
          if (this.#remaining === 0 && !this.#halted) this.#complete(NO_TRAILERS);
          continue;
        }
        case BODY_CLOSE: {
          const slice = off === 0 ? buf : buf.subarray(off);
          off = buf.length;
          this.#sink.onBody(slice);
          continue;
        }
        case CHUNK_DATA: {
          const n = Math.min(this.#remaining, buf.length - off);
          const slice = buf.subarray(off, off + n);
          off += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = CHUNK_DATA_CR;
          this.#sink.onBody(slice);
          continue;
        }
        case DONE:
          return buf.length - off;
        default:
          this.#chunkFraming(buf[off] as number);
          off++;
      }
    }
    return 0;
  }

  /**
   * The connection closed (or ended) after `execute` saw every byte: true when that completes the response
   * (a close-delimited body, or a response already complete), false when the response was cut short.
   */
  finish(): boolean {
    if (this.#state === BODY_CLOSE) this.#complete(NO_TRAILERS);
    return this.#state === DONE;
  }

  #resetFraming(): void {
    this.#contentLength = -1;
    this.#transferEncoding = false;
    this.#chunkedLast = false;
    this.#close = false;
    this.#keepAliveSeconds = -1;
  }

  #complete(trailers: ResponseHeaders): void {
    this.#state = DONE;
    this.#sink.onComplete(trailers);
  }

  /** One byte of chunk framing: the size line (hex, optional extensions) or the CRLF after the data. */
  #chunkFraming(c: number): void {
    switch (this.#state) {
      case CHUNK_SIZE: {
        const v = hexValue(c);
        if (v >= 0) {
          if (++this.#digits > MAX_CHUNK_SIZE_DIGITS)
            fail(`chunk size longer than ${MAX_CHUNK_SIZE_DIGITS} hex digits`);
          if (this.#remaining >= 2 ** 48) fail('chunk size too large');
          this.#remaining = this.#remaining * 16 + v;
          return;
        }
        if (this.#digits === 0) fail('chunk size missing');
        if (c === CR) this.#state = CHUNK_SIZE_LF;
        else if (c === SEMICOLON) this.#state = CHUNK_EXT;
        else if (c === SP || c === HTAB) this.#state = CHUNK_BWS;
        else fail('invalid character in a chunk size');
        return;
      }
      case CHUNK_BWS:
        if (c === SEMICOLON) this.#state = CHUNK_EXT;
        else if (c !== SP && c !== HTAB) fail('whitespace after a chunk size not followed by an extension');
        return;
      case CHUNK_EXT:
        if (c === CR) this.#state = CHUNK_SIZE_LF;
        else if ((c < SP && c !== HTAB) || c === 0x7f) fail('control character in a chunk extension');
        else if (++this.#extensionBytes > MAX_CHUNK_EXTENSION_BYTES)
          fail(`chunk extensions longer than ${MAX_CHUNK_EXTENSION_BYTES} bytes`);
        return;
      case CHUNK_SIZE_LF:
        if (c !== LF) fail('chunk size line not ended by CRLF');
        this.#digits = 0;
        this.#extensionBytes = 0;
        this.#state = this.#remaining === 0 ? TRAILERS : CHUNK_DATA;
        return;
      case CHUNK_DATA_CR:
        if (c !== CR) fail('chunk data longer than its size');
        this.#state = CHUNK_DATA_LF;
        return;
      case CHUNK_DATA_LF:
        if (c !== LF) fail('chunk data not ended by CRLF');
        this.#state = CHUNK_SIZE;
        return;
    }
  }

  /** A complete head (status line and fields, without the final CRLFCRLF). */
  #head(text: string): void {
    const eol = text.indexOf('\r\n');
    const m = STATUS_LINE.exec(eol < 0 ? text : text.slice(0, eol));
    if (m === null) fail('malformed status line');
    const http10 = m[1] === '0';
    const status = Number(m[2]);
    const headers = newHeaders();
    this.#resetFraming();
    if (eol >= 0) this.#fields(text, eol + 2, headers, true);
    if (status === 101) fail('101 Switching Protocols on a request that asked for no upgrade');
    if (this.#transferEncoding && this.#contentLength >= 0) fail('both Transfer-Encoding and Content-Length');
    if (this.#transferEncoding && http10) fail('Transfer-Encoding in an HTTP/1.0 response');
    if (status < 200) {
      // interim (100 Continue, 103 Early Hints): no body, the final answer follows
      if (++this.#interim > MAX_INTERIM_RESPONSES)
        fail(`more than ${MAX_INTERIM_RESPONSES} interim responses`);
      return;
    }
    let state: number;
    this.keepAlive = !http10 && !this.#close;
    if (this.#headRequest || status === 204 || status === 304) state = DONE;
    else if (this.#transferEncoding) {
      state = this.#chunkedLast ? CHUNK_SIZE : BODY_CLOSE;
      this.#remaining = 0;
      this.#digits = 0;
      this.#extensionBytes = 0;
    } else if (this.#contentLength >= 0) {
      state = this.#contentLength === 0 ? DONE : BODY_LENGTH;
      this.#remaining = this.#contentLength;
    } else state = BODY_CLOSE;
    if (state === BODY_CLOSE) this.keepAlive = false;
    this.keepAliveTimeoutMs = this.#keepAliveSeconds >= 0 ? this.#keepAliveSeconds * 1000 : -1;
    this.#state = state;
    this.#sink.onHead(status, headers);
    if (state === DONE && !this.#halted) this.#complete(NO_TRAILERS);
  }

  /**
   * Field lines from `pos` to the end of `text` into `out`; `head`: the response head, whose framing fields
   * are read, and whose hop-by-hop fields this client consumes (Keep-Alive, Transfer-Encoding, and a
   * Connection naming only keep-alive or close) are not passed on: the proxy would only delete them.
   */
  #fields(text: string, pos: number, out: ResponseHeaders, head: boolean): void {
    const len = text.length;
    while (pos < len) {
      let eol = text.indexOf('\r\n', pos);
      if (eol < 0) eol = len;
      const line = text.slice(pos, eol);
      pos = eol + 2;
      let field = LINE_CACHE.get(line);
      if (field === undefined) {
        field = fieldLine(line);
        if (line.length <= MAX_CACHED_LINE) {
          if (LINE_CACHE.size >= LINE_CACHE_SIZE) LINE_CACHE.clear();
          LINE_CACHE.set(line, field);
        }
      }
      const { name, value } = field;
      if (head && field.framing && this.#framingField(name, value)) continue;
      const prev = out[name];
      if (prev === undefined) out[name] = value;
      else if (typeof prev === 'string') out[name] = [prev, value];
      else prev.push(value);
    }
  }

  #contentLengthValue(v: string): void {
    if (!DIGITS.test(v) || v.length > MAX_CONTENT_LENGTH_DIGITS) fail('invalid Content-Length');
    const n = Number(v);
    if (this.#contentLength >= 0 && n !== this.#contentLength) fail('differing Content-Length values');
    this.#contentLength = n;
  }

  /** Reads a framing field; true when it is consumed here (not passed on). */
  #framingField(name: string, value: string): boolean {
    switch (name) {
      case 'content-length':
        // one value (nearly always) without splitting; a list's values must all be the same
        if (!value.includes(',')) this.#contentLengthValue(value);
        else for (const part of value.split(',')) this.#contentLengthValue(part.trim());
        return false;
      case 'transfer-encoding':
        for (const part of value.split(',')) {
          const coding = part.trim().toLowerCase();
          const end = coding.indexOf(';');
          if (!TOKEN.test(end < 0 ? coding : coding.slice(0, end).trimEnd()))
            fail('invalid Transfer-Encoding');
          // chunked must be the final coding, applied once
          if (this.#chunkedLast) fail('Transfer-Encoding with a coding after chunked');
          this.#chunkedLast = coding === 'chunked';
          this.#transferEncoding = true;
        }
        return true;
      case 'connection': {
        let onlyOurs = true;
        for (const part of value.split(',')) {
          const token = part.trim().toLowerCase();
          if (token === 'close') this.#close = true;
          else if (token !== 'keep-alive') onlyOurs = false;
        }
        return onlyOurs;
      }
      case 'keep-alive': {
        const m = KEEP_ALIVE_TIMEOUT.exec(value);
        if (m !== null) this.#keepAliveSeconds = Number(m[1]);
        return true;
      }
    }
    return false;
  }
}
