import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { inputsFromObjects } from '../model/inputs.ts';
import { ManifestReader } from './read-manifests.ts';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-manifests-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const write = (file: string, text: string, mtimeOffsetMs = 0) => {
  const p = path.join(dir, file);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  if (mtimeOffsetMs) fs.utimesSync(p, new Date(), new Date(Date.now() + mtimeOffsetMs));
};

describe('ManifestReader', () => {
  it('reads multi-document YAML, JSON Lists and nested directories; ignores other files', async () => {
    write(
      'a.yaml',
      'apiVersion: v1\nkind: Namespace\nmetadata: {name: one}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: one}\n',
    );
    write(
      'sub/b.json',
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'gateway.networking.k8s.io/v1',
            kind: 'Gateway',
            metadata: { name: 'g', namespace: 'one' },
          },
        ],
      }),
    );
    write('notes.txt', 'kind: Namespace');
    const r = await new ManifestReader(dir).read();
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Gateway/g',
      'Namespace/one',
      'Service/s',
    ]);
    const { inputs, ignored } = inputsFromObjects(r.objects);
    expect([
      inputs.namespaces.length,
      inputs.services.length,
      inputs.gateways.length,
      ignored.length,
    ]).toEqual([1, 1, 1, 0]);
  });

  it('keeps the last good objects of a file that stops parsing, and reports it', async () => {
    const reader = new ManifestReader(dir);
    write('a.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: one}\n');
    expect((await reader.read()).objects).toHaveLength(1);
    write('a.yaml', 'kind: [broken', 5000);
    const r = await reader.read();
    expect(r.objects.map((o) => o.metadata.name)).toEqual(['one']);
    expect(r.problems[0]).toMatch(/^a\.yaml: /);
  });

  it('says whether anything changed, and drops the objects of deleted files', async () => {
    const reader = new ManifestReader(dir);
    write('a.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: one}\n');
    write('b.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata: {name: two}\n');
    expect((await reader.read()).changed).toBe(true);
    expect((await reader.read()).changed).toBe(false);
    fs.rmSync(path.join(dir, 'b.yaml'));
    const r = await reader.read();
    expect(r.changed).toBe(true);
    expect(r.objects.map((o) => o.metadata.name)).toEqual(['one']);
  });

  it('sees a same-size rewrite in the same timestamp tick, and a write-then-rename', async () => {
    const reader = new ManifestReader(dir);
    const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}}\n`;
    // filesystem timestamps tick every few milliseconds: rewriting at once often keeps size, mtime and
    // ctime; twenty rounds make that near certain on ext4
    for (let i = 0; i < 20; i++) {
      const [from, to] = i % 2 === 0 ? ['aaa', 'bbb'] : ['bbb', 'aaa'];
      fs.writeFileSync(path.join(dir, 'a.yaml'), ns(from));
      await reader.read();
      fs.writeFileSync(path.join(dir, 'a.yaml'), ns(to));
      const r = await reader.read();
      expect(r.changed).toBe(true);
      expect(r.objects.map((o) => o.metadata.name)).toEqual([to]);
    }
    // an editor's save: a new file renamed over the old one
    fs.writeFileSync(path.join(dir, '.a.yaml.tmp'), ns('ccc'));
    fs.renameSync(path.join(dir, '.a.yaml.tmp'), path.join(dir, 'a.yaml'));
    expect((await reader.read()).objects.map((o) => o.metadata.name)).toEqual(['ccc']);
    // nothing changed: not parsed again, and said so
    expect((await reader.read()).changed).toBe(false);
  });
});
