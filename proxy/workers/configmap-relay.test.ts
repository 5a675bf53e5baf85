import { describe, expect, it } from 'vitest';
import type { ConfigMapCache, ConfigMapLike } from '../../policies/bundle-sources.ts';
import {
  ConfigMapRelay,
  RelayedConfigMaps,
  relayedConfigMapKeys,
  type ConfigMapsMessage,
} from './configmap-relay.ts';

const cm = (namespace: string, name: string, data: Record<string, string>): ConfigMapLike => ({
  metadata: { namespace, name },
  data,
});

/** An informer-like cache the test drives by hand. */
function fakeInformer(initial: ConfigMapLike[]) {
  const items = new Map(initial.map((c) => [`${c.metadata?.namespace}/${c.metadata?.name}`, c]));
  let handlers: Parameters<ConfigMapCache['addHandlers']>[0] = {};
  const cache: ConfigMapCache = {
    get: (name, namespace) => items.get(`${namespace}/${name}`),
    addHandlers: (h) => {
      handlers = h;
      return () => (handlers = {});
    },
  };
  return {
    cache,
    put(c: ConfigMapLike) {
      const key = `${c.metadata?.namespace}/${c.metadata?.name}`;
      const old = items.get(key);
      items.set(key, c);
      if (old) handlers.onUpdate?.(c, old);
      else handlers.onAdd?.(c);
    },
    remove(namespace: string, name: string) {
      const old = items.get(`${namespace}/${name}`);
      items.delete(`${namespace}/${name}`);
      if (old) handlers.onDelete?.(old);
    },
  };
}

describe('ConfigMap relay to proxy workers', () => {
  it('relays only the ConfigMaps that bundles are read from', () => {
    const keys = relayedConfigMapKeys([
      { name: 'a', configMap: { namespace: 'platform', name: 'rules', key: 'b.tar.gz' } },
      { name: 'b', file: '/etc/bundle.tar.gz' },
    ]);
    expect([...keys]).toEqual(['platform/rules']);
    const informer = fakeInformer([cm('platform', 'rules', { k: '1' }), cm('platform', 'other', { k: 'x' })]);
    const sent: ConfigMapsMessage[] = [];
    const relay = new ConfigMapRelay(informer.cache, keys, (m) => sent.push(m));
    expect(relay.snapshot().items.map((i) => i.metadata?.name)).toEqual(['rules']);
    informer.put(cm('platform', 'other', { k: 'y' }));
    expect(sent).toHaveLength(0); // a ConfigMap no bundle reads never travels
    informer.put(cm('platform', 'rules', { k: '2' }));
    expect(sent.at(-1)?.items).toEqual([cm('platform', 'rules', { k: '2' })]);
    informer.remove('platform', 'rules');
    expect(sent.at(-1)?.items).toEqual([]);
    relay.stop();
    informer.put(cm('platform', 'rules', { k: '3' }));
    expect(sent).toHaveLength(2);
  });

  it('turns each relayed state into add, update and delete events, and counts as synced on the first', async () => {
    const relayed = new RelayedConfigMaps();
    const events: string[] = [];
    relayed.addHandlers({
      onAdd: (c) => events.push(`add ${c.metadata?.name} ${c.data?.k}`),
      onUpdate: (c, old) => events.push(`update ${c.metadata?.name} ${old.data?.k}->${c.data?.k}`),
      onDelete: (c) => events.push(`delete ${c.metadata?.name}`),
    });
    let synced = false;
    void relayed.synced.then(() => (synced = true));
    await Promise.resolve();
    expect(synced).toBe(false);

    relayed.onMessage({ t: 'configMaps', items: [] });
    await relayed.synced;
    expect(relayed.get('rules', 'platform')).toBeUndefined();

    relayed.onMessage({ t: 'configMaps', items: [cm('platform', 'rules', { k: '1' })] });
    relayed.onMessage({ t: 'configMaps', items: [cm('platform', 'rules', { k: '1' })] }); // unchanged: no event
    relayed.onMessage({ t: 'configMaps', items: [cm('platform', 'rules', { k: '2' })] });
    expect(relayed.get('rules', 'platform')?.data).toEqual({ k: '2' });
    relayed.onMessage({ t: 'configMaps', items: [] });
    expect(relayed.get('rules', 'platform')).toBeUndefined();
    expect(events).toEqual(['add rules 1', 'update rules 1->2', 'delete rules']);
  });
});
