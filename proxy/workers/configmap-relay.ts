// Policy bundles kept in ConfigMaps, for proxy workers. A worker opens no watch (one set of watches per
// pod), so the primary relays the few ConfigMaps its policy configuration names — and only those — from
// its informer to every worker, and each worker reads them through a ConfigMap cache fed by these
// messages. The worker's policy engine then loads, validates and hot-reloads those bundles exactly as a
// single-process proxy does (policies/bundle-sources.ts), so every worker evaluates the rules the
// primary compiled against. Without it an AccessPolicy naming a rule from such a bundle would be valid
// in the primary's status and refuse every request (500, fail closed) in the workers.
import type { BundleSourceSpec } from '../../policies/config.ts';
import type { ConfigMapCache, ConfigMapLike } from '../../policies/bundle-sources.ts';

export type ConfigMapsMessage = { t: 'configMaps'; items: ConfigMapLike[] };

const keyOf = (namespace: string | undefined, name: string | undefined): string => `${namespace}/${name}`;

/** The ConfigMaps (namespace/name) that configured bundles are read from. */
export function relayedConfigMapKeys(bundles: readonly BundleSourceSpec[]): Set<string> {
  const keys = new Set<string>();
  for (const b of bundles) if ('configMap' in b) keys.add(keyOf(b.configMap.namespace, b.configMap.name));
  return keys;
}

/** Primary side: the current state of the relayed ConfigMaps, and a message on every change to them. */
export class ConfigMapRelay {
  readonly #keys: ReadonlySet<string>;
  readonly #cache: ConfigMapCache;
  readonly #stop: () => void;

  constructor(cache: ConfigMapCache, keys: ReadonlySet<string>, onChange: (m: ConfigMapsMessage) => void) {
    this.#cache = cache;
    this.#keys = keys;
    const changed = (cm: ConfigMapLike) => {
      if (this.#keys.has(keyOf(cm.metadata?.namespace, cm.metadata?.name))) onChange(this.snapshot());
    };
    this.#stop = cache.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
  }

  /** Every relayed ConfigMap that exists now: what a new worker is sent before its first table. */
  snapshot(): ConfigMapsMessage {
    const items: ConfigMapLike[] = [];
    for (const key of this.#keys) {
      const slash = key.indexOf('/');
      const cm = this.#cache.get(key.slice(slash + 1), key.slice(0, slash));
      if (cm !== undefined) items.push({ metadata: cm.metadata, data: cm.data, binaryData: cm.binaryData });
    }
    return { t: 'configMaps', items };
  }

  stop(): void {
    this.#stop();
  }
}

type Handlers = Parameters<ConfigMapCache['addHandlers']>[0];

/**
 * Worker side: a ConfigMap cache holding what the primary last relayed. Each message is the whole
 * relayed state, so additions, changes and deletions are found by comparing it with the previous one.
 */
export class RelayedConfigMaps implements ConfigMapCache {
  #items = new Map<string, ConfigMapLike>();
  readonly #handlers = new Set<Handlers>();
  readonly synced: Promise<ConfigMapCache>;
  #markSynced!: () => void;

  constructor() {
    this.synced = new Promise((resolve) => (this.#markSynced = () => resolve(this)));
  }

  get(name: string, namespace?: string): ConfigMapLike | undefined {
    return this.#items.get(keyOf(namespace, name));
  }

  addHandlers(handlers: Handlers): () => void {
    this.#handlers.add(handlers);
    return () => this.#handlers.delete(handlers);
  }

  onMessage(m: ConfigMapsMessage): void {
    const next = new Map(m.items.map((cm) => [keyOf(cm.metadata?.namespace, cm.metadata?.name), cm]));
    const previous = this.#items;
    this.#items = next;
    for (const [key, cm] of next) {
      const old = previous.get(key);
      if (old === undefined) for (const h of this.#handlers) h.onAdd?.(cm);
      else if (!sameContent(old, cm)) for (const h of this.#handlers) h.onUpdate?.(cm, old);
    }
    for (const [key, old] of previous) if (!next.has(key)) for (const h of this.#handlers) h.onDelete?.(old);
    this.#markSynced();
  }
}

function sameContent(a: ConfigMapLike, b: ConfigMapLike): boolean {
  return JSON.stringify([a.data, a.binaryData]) === JSON.stringify([b.data, b.binaryData]);
}
