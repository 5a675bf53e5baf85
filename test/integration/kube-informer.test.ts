// The informer against a real API server: cache and handlers; re-list and diff after 410 Gone; restart
// with backoff after other failures (a kind whose CRD does not exist yet; connections cut under a live
// watch); per-handler resync; one informer per kind from the factory.
import net from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyObject, createObject, deleteObject, mergePatch } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { Informer } from '../../kube/informer.ts';
import { InformerFactory } from '../../kube/informer-factory.ts';
import { KINDS } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import { registry } from '../../lib/metrics.ts';
import { eventually, uniqueName } from './tenant-fixtures.ts';
import { testKubeConfig } from '../env/test-cluster.ts';

let admin: KubeClient;
const namespace = uniqueName('informer');

const cm = (name: string, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace },
  data,
});

async function restarts(kind: string, reason: 'gone' | 'error'): Promise<number> {
  const metric = (await registry.getSingleMetric('tenantgate_informer_restarts_total')?.get())?.values ?? [];
  return metric
    .filter((v) => v.labels.kind === kind && v.labels.reason === reason)
    .reduce((n, v) => n + v.value, 0);
}

/** Records what handlers saw, as "add:name", "update:name", "delete:name". */
function recorder(informer: Informer) {
  const seen: string[] = [];
  informer.addHandlers({
    onAdd: (o) => seen.push(`add:${o.metadata?.name}`),
    onUpdate: (o, old) => seen.push(`${o === old ? 'resync' : 'update'}:${o.metadata?.name}`),
    onDelete: (o) => seen.push(`delete:${o.metadata?.name}`),
    onSynced: () => seen.push('synced'),
  });
  return seen;
}

beforeAll(async () => {
  admin = new KubeClient({ kubeConfig: testKubeConfig() });
  await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
});

afterAll(() => admin.close());

describe('Informer', () => {
  it('lists, then follows adds, updates and deletes, keeping a cache', async () => {
    await createObject(admin, cm('before'));
    // the controller-manager's root-CA publisher writes kube-root-ca.crt into every namespace whenever it
    // gets to it: a field selector keeps this test's view to the objects it writes (and exercises selectors)
    const informer = new Informer({
      client: admin,
      kind: KINDS.ConfigMap,
      namespace,
      fieldSelector: 'metadata.name!=kube-root-ca.crt',
    });
    const seen = recorder(informer);
    informer.start();
    await informer.waitForSync({ timeoutMs: 10_000 });
    expect(seen.slice(0, 2)).toEqual(['add:before', 'synced']);
    expect(informer.get('before', namespace)?.kind).toBe('ConfigMap');
    await createObject(admin, cm('after'));
    await mergePatch(admin, cm('before'), { data: { x: '1' } });
    await deleteObject(admin, cm('after'));
    await eventually(() => seen.includes('delete:after'), { what: 'the delete event' });
    expect(seen).toEqual(['add:before', 'synced', 'add:after', 'update:before', 'delete:after']);
    expect(informer.list(namespace).map((o) => o.metadata?.name)).toEqual(['before']);
    expect(
      (informer.get('before', namespace) as KubeObject & { data?: Record<string, string> }).data,
    ).toEqual({ x: '1' });
    await informer.stop();
  });

  it('re-lists after 410 Gone and tells handlers what they missed', async () => {
    // a CRD-served kind: its watch cache starts when the CRD is installed, so resourceVersion 1 is
    // "too old" for it (410 Expired); for built-in kinds a young test cluster still has all history
    const ns = uniqueName('gone');
    await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const mk = (name: string, from = ns) => ({
      apiVersion: KINDS.ReferenceGrant.apiVersion,
      kind: 'ReferenceGrant',
      metadata: { name, namespace: ns },
      spec: {
        from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: from }],
        to: [{ group: '', kind: 'Service' }],
      },
    });
    await createObject(admin, mk('stays'));
    await createObject(admin, mk('goes'));
    const informer = new Informer({ client: admin, kind: KINDS.ReferenceGrant, namespace: ns });
    const seen = recorder(informer);
    informer.start();
    await informer.waitForSync({ timeoutMs: 10_000 });
    await informer.stop();
    // changes the informer does not see...
    await applyObject(admin, mk('stays', 'elsewhere'));
    await deleteObject(admin, mk('goes'));
    await createObject(admin, mk('new'));
    // ...and a resource version older than the server keeps: it answers 410 and the informer re-lists
    const kind = 'gateway.networking.k8s.io/v1/ReferenceGrant';
    const goneBefore = await restarts(kind, 'gone');
    informer.forceReconnect('1');
    informer.start();
    await eventually(
      () => seen.includes('add:new') && seen.includes('delete:goes') && seen.includes('update:stays'),
      { what: 'the missed changes' },
    );
    expect(await restarts(kind, 'gone')).toBeGreaterThan(goneBefore);
    expect(
      informer
        .list(ns)
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(['new', 'stays']);
    // and it keeps watching afterwards
    await createObject(admin, mk('later'));
    await eventually(() => seen.includes('add:later'), { what: 'an event after the re-list' });
    await informer.stop();
  });

  it('keeps retrying a kind that is not served yet, and syncs once its CRD is installed', async () => {
    const group = `${uniqueName('late')}.example.com`;
    const kind = { apiVersion: `${group}/v1`, kind: 'Widget' };
    const informer = new Informer({ client: admin, kind, backoff: { initialMs: 100, maxMs: 800 } });
    const seen = recorder(informer);
    informer.start();
    await eventually(async () => (await restarts(`${group}/v1/Widget`, 'error')) >= 2, {
      what: 'failed attempts',
    });
    expect(informer.hasSynced()).toBe(false);
    expect(informer.lastError).toContain('Widget');
    await createObject(admin, {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        names: { kind: 'Widget', plural: 'widgets', singular: 'widget', listKind: 'WidgetList' },
        scope: 'Cluster',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        ],
      },
    } as never);
    await informer.waitForSync({ timeoutMs: 30_000 });
    expect(informer.lastError).toBeUndefined();
    await eventually(
      async () => {
        await applyObject(admin, { apiVersion: kind.apiVersion, kind: 'Widget', metadata: { name: 'w1' } });
        return true;
      },
      { what: 'the Widget created' },
    );
    await eventually(() => seen.includes('add:w1'), { what: 'the Widget add event' });
    await informer.stop();
    await deleteObject(admin, {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `widgets.${group}` },
    });
  });

  it('restarts after its connection is cut under a live watch, and misses nothing', async () => {
    const proxy = await cuttableProxy(new URL(admin.server));
    const kc = testKubeConfig();
    const viaProxy = new KubeConfig();
    viaProxy.loadFromOptions({
      clusters: [{ ...kc.getCurrentCluster()!, name: 'proxied', server: `https://127.0.0.1:${proxy.port}` }],
      users: [kc.getCurrentUser()!],
      contexts: [{ name: 'proxied', cluster: 'proxied', user: kc.getCurrentUser()!.name }],
      currentContext: 'proxied',
    });
    const client = new KubeClient({ kubeConfig: viaProxy });
    const ns = uniqueName('cut');
    await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const informer = new Informer({
      client,
      kind: KINDS.ConfigMap,
      namespace: ns,
      backoff: { initialMs: 100, maxMs: 500 },
    });
    const seen = recorder(informer);
    informer.start();
    await informer.waitForSync({ timeoutMs: 10_000 });
    // make sure the watch itself is up (through the proxy) before cutting
    await createObject(admin, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'probe', namespace: ns },
    });
    await eventually(() => seen.includes('add:probe'), { what: 'the watch live' });
    const errorsBefore = await restarts('v1/ConfigMap', 'error');
    proxy.cut();
    await createObject(admin, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'during', namespace: ns },
    });
    await eventually(() => seen.includes('add:during'), {
      what: 'the event made while the connection was down',
    });
    expect(await restarts('v1/ConfigMap', 'error')).toBeGreaterThan(errorsBefore);
    await informer.stop();
    await client.close();
    proxy.close();
  });

  it('replays its cache to a handler on that handler’s resync period only', async () => {
    const informer = new Informer({ client: admin, kind: KINDS.ConfigMap, namespace });
    informer.start();
    await informer.waitForSync({ timeoutMs: 10_000 });
    const resynced: string[] = [];
    const quiet: string[] = [];
    informer.addHandlers(
      { onUpdate: (o, old) => o === old && resynced.push(o.metadata!.name!) },
      { resyncPeriodMs: 150 },
    );
    informer.addHandlers({ onUpdate: (o, old) => o === old && quiet.push(o.metadata!.name!) });
    await eventually(() => resynced.filter((n) => n === 'before').length >= 2, { what: 'two resyncs' });
    expect(quiet).toEqual([]);
    await informer.stop();
  });
});

describe('InformerFactory', () => {
  it('hands every caller the same informer for a kind, and gives late handlers the cache', async () => {
    const factory = new InformerFactory({ client: admin });
    const first = factory.informer(KINDS.ConfigMap);
    expect(factory.informer({ apiVersion: 'v1', kind: 'ConfigMap' })).toBe(first);
    factory.start();
    await factory.waitForSync(undefined, { timeoutMs: 10_000 });
    const late: string[] = [];
    first.addHandlers({ onAdd: (o) => o.metadata?.namespace === namespace && late.push(o.metadata.name!) });
    expect(late).toContain('before');
    // an informer asked for after start() starts at once
    const ns = factory.informer(KINDS.Namespace);
    await ns.waitForSync({ timeoutMs: 10_000 });
    expect(ns.get(namespace)).toBeDefined();
    expect(factory.pending()).toEqual([]);
    await factory.stop();
  });
});

/** A TCP proxy to the API server whose connections can all be cut at once. */
async function cuttableProxy(target: URL): Promise<{ port: number; cut(): void; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut: () => sockets.forEach((s) => s.destroy()),
    close: () => {
      sockets.forEach((s) => s.destroy());
      server.close();
    },
  };
}
