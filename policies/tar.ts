// Reads the files of a (gzipped) tar archive, as `opa build` writes bundles: enough of ustar/PAX for
// regular files, no dependency. Paths lose their leading "/" ("/policy.wasm" -> "policy.wasm").
import { gunzipSync } from 'node:zlib';
import { defineError } from '../lib/errors.ts';

export const TarError = defineError('TG_POLICY_TAR', 'not a readable bundle archive: %s');

const BLOCK = 512;
/** bundles are small; refuse archive bombs */
const MAX_UNPACKED_BYTES = 64 * 1024 * 1024;

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length > 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

export function readTar(archive: Uint8Array): Map<string, Buffer> {
  let data: Buffer;
  try {
    data = isGzip(archive)
      ? gunzipSync(archive, { maxOutputLength: MAX_UNPACKED_BYTES })
      : Buffer.from(archive);
  } catch (err) {
    throw new TarError([(err as Error).message], { cause: err });
  }
  const files = new Map<string, Buffer>();
  let offset = 0;
  let paxPath: string | undefined;
  while (offset + BLOCK <= data.length) {
    const header = data.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    if (!checksumOk(header)) throw new TarError([`bad header checksum at byte ${offset}`]);
    const size = parseOctal(header.subarray(124, 136));
    const type = String.fromCharCode(header[156] || 0x30);
    const body = data.subarray(offset + BLOCK, offset + BLOCK + size);
    if (body.length < size) throw new TarError([`truncated entry at byte ${offset}`]);
    const prefix = text(header.subarray(345, 500));
    const name =
      paxPath ?? (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)));
    if (type === 'x') {
      paxPath = paxValue(body, 'path');
    } else {
      paxPath = undefined;
      if (type === '0') files.set(name.replace(/^\.?\/+/, ''), Buffer.from(body));
    }
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return files;
}

function text(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('utf8');
}

function parseOctal(b: Buffer): number {
  const s = text(b).trim();
  const n = s ? parseInt(s, 8) : 0;
  if (!Number.isFinite(n) || n < 0) throw new TarError([`bad size field '${s}'`]);
  return n;
}

function checksumOk(header: Buffer): boolean {
  const stored = parseOctal(header.subarray(148, 156));
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === stored;
}

/** PAX extended header records: "<len> key=value\n" */
function paxValue(body: Buffer, key: string): string | undefined {
  for (const line of body.toString('utf8').split('\n')) {
    const m = /^\d+ ([^=]+)=(.*)$/.exec(line);
    if (m && m[1] === key) return m[2];
  }
  return undefined;
}
