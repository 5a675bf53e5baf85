// Reading Kubernetes manifests from a directory: every .yaml/.yml/.json file below it (multi-document
// YAML and `kind: List` included). Files are re-parsed only when their size or mtime changed; a file
// that does not parse keeps its last good objects, so a half-written edit never empties the proxy.
import fs from 'node:fs/promises';
import path from 'node:path';
import YAML from 'yaml';
import type { KubeObject } from '../model/gateway-api.ts';
import { defineError } from '../../lib/errors.ts';

export const ManifestParseError = defineError('TG_PROXY_MANIFEST', 'not valid YAML: %s');

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

interface CachedFile {
  stamp: string;
  objects: KubeObject[];
}

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
      const stamp = `${stat.size}:${stat.mtimeMs}`;
      const prev = this.#cache.get(file);
      if (prev && prev.stamp === stamp) {
        next.set(file, prev);
        continue;
      }
      changed = true;
      try {
        next.set(file, { stamp, objects: parseManifests(await fs.readFile(file, 'utf8'), file) });
      } catch (err) {
        problems.push(`${path.relative(this.dir, file)}: ${(err as Error).message}`);
        if (prev) next.set(file, { stamp: prev.stamp, objects: prev.objects });
      }
    }
    for (const f of this.#cache.keys()) if (!next.has(f)) changed = true;
    this.#cache = next;
    return { objects: [...next.values()].flatMap((f) => f.objects), problems, changed };
  }
}
