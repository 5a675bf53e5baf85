// Reading Kubernetes manifests from a directory: every .yaml/.yml/.json file below it (multi-document
// YAML and `kind: List` included). Files are re-parsed only when they changed; a file that does not
// parse keeps its last good objects, so a half-written edit never empties the proxy.
//
// "Changed" is decided by the stat stamp (inode, size, mtime, ctime) and, for a file modified so recently
// that another write in the same timestamp tick could follow unseen (ext4's clock ticks every few
// milliseconds; git calls this "racily clean"), by the content's digest: a same-size rewrite within one
// tick, or a write-then-rename, is never missed, and an unchanged file is still not parsed again.
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { KubeObject } from '../model/gateway-api.ts';
import { defineError } from '../../lib/errors.ts';

export const ManifestParseError = defineError('TG_PROXY_MANIFEST', 'not valid YAML: %s');

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

interface CachedFile {
  stamp: string;
  /** sha256 of the content the objects were parsed from */
  digest: string;
  /** when the file was last stat'ed: a stamp newer than this minus RACY_MS is not trusted alone */
  checkedAt: number;
  objects: KubeObject[];
}

/** Wider than any filesystem's timestamp tick (and than clock skew between the writer and this process). */
const RACY_MS = 2_000;

const digestOf = (text: string): string => createHash('sha256').update(text).digest('hex');

export interface ReadResult {
  objects: KubeObject[];
  /** "file: problem" for files that did not parse (their last good objects were kept) */
  problems: string[];
  /** whether anything differs from the previous read */
  changed: boolean;
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && MANIFEST_EXT.test(e.name) && !e.name.startsWith('.'))
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
}

function flatten(doc: unknown, out: KubeObject[]): void {
  if (!doc || typeof doc !== 'object') return;
  const o = doc as { kind?: string; items?: unknown[]; metadata?: { name?: string } };
  if (typeof o.kind === 'string' && o.kind.endsWith('List') && Array.isArray(o.items)) {
    for (const item of o.items) flatten(item, out);
    return;
  }
  if (o.metadata?.name) out.push(o as KubeObject);
}

export function parseManifests(text: string, file: string): KubeObject[] {
  const out: KubeObject[] = [];
  if (/\.json$/i.test(file)) {
    flatten(JSON.parse(text), out);
    return out;
  }
  for (const doc of YAML.parseAllDocuments(text)) {
    if (doc.errors.length) throw new ManifestParseError([doc.errors[0]!.message]);
    flatten(doc.toJS(), out);
  }
  return out;
}

export class ManifestReader {
  readonly dir: string;
  #cache = new Map<string, CachedFile>();

  constructor(dir: string) {
    this.dir = dir;
  }

  async read(): Promise<ReadResult> {
    const files = await listFiles(this.dir);
    const next = new Map<string, CachedFile>();
    const problems: string[] = [];
    let changed = files.length !== this.#cache.size;
    for (const file of files) {
      let stat;
      try {
        stat = await fs.stat(file);
      } catch {
        continue; // removed between listing and stat
      }
      const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
      const checkedAt = Date.now();
      const prev = this.#cache.get(file);
      const racy = Math.max(stat.mtimeMs, stat.ctimeMs) > (prev?.checkedAt ?? 0) - RACY_MS;
      if (prev && prev.stamp === stamp && !racy) {
        next.set(file, { ...prev, checkedAt });
        continue;
      }
      let text: string;
      try {
        text = await fs.readFile(file, 'utf8');
      } catch {
        continue; // removed between stat and read
      }
      const digest = digestOf(text);
      if (prev && prev.digest === digest) {
        next.set(file, { ...prev, stamp, checkedAt });
        continue;
      }
      changed = true;
      try {
        next.set(file, { stamp, digest, checkedAt, objects: parseManifests(text, file) });
      } catch (err) {
        problems.push(`${path.relative(this.dir, file)}: ${(err as Error).message}`);
        // the last good objects stay, under the broken content's digest so that only a new edit retries
        if (prev) next.set(file, { stamp, digest, checkedAt, objects: prev.objects });
      }
    }
    for (const f of this.#cache.keys()) if (!next.has(f)) changed = true;
    this.#cache = next;
    return { objects: [...next.values()].flatMap((f) => f.objects), problems, changed };
  }
}
