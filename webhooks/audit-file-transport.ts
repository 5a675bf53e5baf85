// A winston transport that appends lines to a file and rotates it by size: NAME.EXT is the newest, older
// ones are NAME1.EXT (newest rotated) .. NAMEn.EXT, at most `maxFiles` rotated files kept. Writes are
// synchronous: an audit record is on disk (in the page cache) before the admission answer goes out, and
// a shutdown or crash cannot lose queued records. (winston's File transport rotates asynchronously and
// drops or mis-orders writes that race a rotation or its end().)
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import winston from 'winston';
import type TransportStream from 'winston-transport';

const MESSAGE = Symbol.for('message');

// winston exports the transport base class at run time as `Transport`; its typings call it `transport`
const TransportBase = (winston as unknown as { Transport: typeof TransportStream }).Transport;

export interface RotatingFileOptions {
  filename: string;
  maxSizeBytes: number;
  maxFiles: number;
}

export class RotatingFileTransport extends TransportBase {
  readonly #options: RotatingFileOptions;
  #fd: number | undefined;
  #size = 0;

  constructor(options: RotatingFileOptions) {
    super();
    this.#options = options;
    mkdirSync(dirname(options.filename), { recursive: true });
    this.#open();
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    const line = `${String(info[MESSAGE])}\n`;
    const bytes = Buffer.byteLength(line);
    if (this.#size > 0 && this.#size + bytes > this.#options.maxSizeBytes) this.#rotate();
    if (this.#fd === undefined) this.#open();
    writeSync(this.#fd!, line);
    this.#size += bytes;
    next();
  }

  override close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** NAME.EXT -> NAME1.EXT -> NAME2.EXT ...; the oldest beyond maxFiles is removed. */
  #rotate(): void {
    this.close();
    const { filename, maxFiles } = this.#options;
    const ext = extname(filename);
    const base = join(dirname(filename), basename(filename, ext));
    const nth = (n: number) => `${base}${n}${ext}`;
    rmSync(nth(maxFiles), { force: true });
    for (let n = maxFiles - 1; n >= 1; n--) if (existsSync(nth(n))) renameSync(nth(n), nth(n + 1));
    if (maxFiles >= 1) renameSync(filename, nth(1));
    else rmSync(filename, { force: true });
    this.#open();
  }

  #open(): void {
    this.#fd = openSync(this.#options.filename, 'a', 0o640);
    this.#size = fstatSync(this.#fd).size;
  }
}
