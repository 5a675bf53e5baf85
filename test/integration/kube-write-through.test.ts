// kube/write-through.ts against a real API server: a write through it is visible in the informer cache
// as soon as the call returns, before (here: without) the watch event; a delete hides the object; a
// dry run and a kind nobody watches leave caches alone; once the watch delivers, the cache is its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObject } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { InformerFactory } from '../../kube/informer-factory.ts';
import { KINDS } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import { WriteThrough } from '../../kube/write-through.ts';
import { testKubeConfig } from '../env/test-cluster.ts';
import { eventually, uniqueName } from './tenant-fixtures.ts';

type ConfigMap = KubeObject & { data?: Record<string, string> };

let admin: KubeClient;
const namespace = uniqueName('write-through');
const cm = (name: string, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace },
  data,
});

beforeAll(async () => {
  admin = new KubeClient({ kubeConfig: testKubeConfig() });
  await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
});

afterAll(() => admin.close());

describe('WriteThrough', () => {
  it('makes creates, patches, applies and deletes visible in the cache when the call returns', async () => {
    const informers = new InformerFactory({ client: admin });
    const configMaps = informers.informer<ConfigMap>(KINDS.ConfigMap);
    informers.start();
    await informers.waitForSync(undefined, { timeoutMs: 10_000 });
    // freeze the cache: from now on only write-through notes can change what it returns
    await informers.stop();
    const writes = new WriteThrough({ client: admin, informers });

    await createObject(admin, cm('plain'));
    expect(configMaps.get('plain', namespace)).toBeUndefined(); // a plain write: the cache lags

    const created = await writes.create<ConfigMap>(cm('a', { v: '1' }));
    expect(configMaps.get('a', namespace)).toEqual(created);
    // kube-root-ca.crt: the controller-manager's root-CA publisher writes it into every namespace
    expect(
      configMaps
        .list(namespace)
        .map((o) => o.metadata?.name)
        .filter((n) => n !== 'kube-root-ca.crt'),
    ).toEqual(['a']);

    await writes.mergePatch(cm('a'), { data: { v: '2' } });
    expect(configMaps.get('a', namespace)?.data).toEqual({ v: '2' });

    await writes.apply(cm('b', { w: '1' }));
    expect(configMaps.get('b', namespace)?.data).toEqual({ w: '1' });

    await writes.mergePatch(cm('a'), { data: { v: '3' } }, { dryRun: true });
    expect(configMaps.get('a', namespace)?.data).toEqual({ v: '2' });

    // the cache must hold an object for a delete to hide it: let the watch catch up first
    informers.start();
    await eventually(() => configMaps.get('plain', namespace) !== undefined, { what: 'the watch' });
    await informers.stop();
    const plain = configMaps.get('plain', namespace)!;
    expect(await writes.delete(plain, { preconditions: { uid: plain.metadata?.uid } })).toBe(true);
    expect(configMaps.get('plain', namespace)).toBeUndefined();
    expect(configMaps.list(namespace).map((o) => o.metadata?.name)).not.toContain('plain');
    // already gone on the server: false, and still hidden
    expect(await writes.delete(plain)).toBe(false);
    expect(configMaps.get('plain', namespace)).toBeUndefined();
  });

  it('lets the watch take over once it delivers, and hands handlers only real events', async () => {
    const informers = new InformerFactory({ client: admin });
    const configMaps = informers.informer<ConfigMap>(KINDS.ConfigMap);
    const seen: string[] = [];
    configMaps.addHandlers({
      onAdd: (o) => o.metadata?.namespace === namespace && seen.push(`add:${o.metadata.name}`),
    });
    informers.start();
    await informers.waitForSync(undefined, { timeoutMs: 10_000 });
    const writes = new WriteThrough({ client: admin, informers });
    const created = await writes.create<ConfigMap>(cm('c', { v: '1' }));
    expect(configMaps.get('c', namespace)?.metadata?.uid).toBe(created.metadata?.uid);
    await eventually(() => seen.includes('add:c'), { what: 'the watch event' });
    expect(seen.filter((s) => s === 'add:c')).toHaveLength(1);
    expect(configMaps.get('c', namespace)?.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
    await informers.stop();
  });

  it('never opens a watch for a kind nobody asked the factory for', async () => {
    const informers = new InformerFactory({ client: admin });
    const writes = new WriteThrough({ client: admin, informers });
    await writes.create(cm('d'));
    expect(informers.existing(KINDS.ConfigMap)).toBeUndefined();
    expect(informers.pending()).toEqual([]);
    await writes.delete(cm('d'));
    expect(informers.existing(KINDS.ConfigMap)).toBeUndefined();
  });

  it('refuses to delete an object it cannot name, saying what is missing', async () => {
    const writes = new WriteThrough({ client: admin, informers: new InformerFactory({ client: admin }) });
    await expect(writes.delete({ metadata: { name: 'x' } })).rejects.toMatchObject({
      code: 'TG_KUBE_UNNAMED_OBJECT',
      message: expect.stringContaining('needs apiVersion, kind and metadata.name'),
    });
  });
});
