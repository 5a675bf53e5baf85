// Hot reload of custom policy bundles from a file or a ConfigMap. Every change is validated by the engine
// before it serves; a broken bundle is refused (log line + onRefused, which callers turn into an Event) and
// the last good one stays in force. No Kubernetes client here: a ConfigMap source reads through any cache
// with get/addHandlers (an informer from kube/), so the proxy and the webhook can share one.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { unwatchFile, watchFile } from 'node:fs';
import { defineError, errorMessage } from '../lib/errors.ts';
import { componentLogger, type Logger } from '../lib/logger.ts';
import type { BundleSourceSpec } from './config.ts';
import type { PolicyEngine } from './engine.ts';

export const BundleKeyMissingError = defineError(
  'TG_POLICY_BUNDLE_KEY',
  "the ConfigMap has no key '%s' (it has: %s); put the bundle under binaryData.%s",
);

export interface BundleRefusal {
  bundle: string;
  /** "file /path" or "ConfigMap ns/name key" */
  source: string;
  reason: string;
  error?: unknown;
}

export interface BundleWatchOptions {
  engine: PolicyEngine;
  onRefused?(refusal: BundleRefusal): void;
  onLoaded?(bundle: string, revision: string): void;
  logger?: Logger;
  /** file polling interval; default 2 s (polling survives editors and ConfigMap volume symlink swaps) */
  pollIntervalMs?: number;
}

export interface BundleWatcher {
  /** resolves once the first load attempt is done (loaded or refused) */
  readonly ready: Promise<void>;
  stop(): void;
}

/** The part of an informer a ConfigMap source needs. */
export interface ConfigMapCache {
  get(name: string, namespace?: string): ConfigMapLike | undefined;
  addHandlers(handlers: {
    onAdd?(obj: ConfigMapLike): void;
    onUpdate?(obj: ConfigMapLike, old: ConfigMapLike): void;
    onDelete?(obj: ConfigMapLike): void;
  }): () => void;
}

export interface ConfigMapLike {
  metadata?: { name?: string; namespace?: string };
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/** Loads bundles one at a time per name, skipping content the engine already has. */
class Loader {
  readonly #options: BundleWatchOptions;
  readonly #log: Logger;
  readonly #name: string;
  readonly #source: string;
  #digest: string | undefined;
  #chain: Promise<void> = Promise.resolve();

  constructor(name: string, source: string, options: BundleWatchOptions) {
    this.#name = name;
    this.#source = source;
    this.#options = options;
    this.#log = options.logger ?? componentLogger('policy-bundles');
  }

  load(read: () => Promise<Uint8Array>): Promise<void> {
    this.#chain = this.#chain.then(() => this.#loadNow(read));
    return this.#chain;
  }

  refuse(reason: string, error?: unknown): void {
    this.#log.error('policy bundle refused; the last good one stays in force', {
      bundle: this.#name,
      source: this.#source,
      reason,
    });
    this.#options.onRefused?.({ bundle: this.#name, source: this.#source, reason, error });
  }

  async #loadNow(read: () => Promise<Uint8Array>): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = await read();
    } catch (err) {
      this.refuse(errorMessage(err), err);
      return;
    }
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest === this.#digest) return;
    try {
      const bundle = await this.#options.engine.setBundle(this.#name, bytes);
      this.#digest = digest;
      this.#options.onLoaded?.(this.#name, bundle.revision);
    } catch (err) {
      this.#digest = undefined;
      this.refuse(errorMessage(err), err);
    }
  }
}

export function watchBundleFile(
  spec: { name: string; file: string },
  options: BundleWatchOptions,
): BundleWatcher {
  const loader = new Loader(spec.name, `file ${spec.file}`, options);
  const reload = () => loader.load(() => readFile(spec.file));
  const ready = stat(spec.file).then(reload, (err: unknown) =>
    loader.refuse(`cannot read ${spec.file}: ${errorMessage(err)}`, err),
  );
  const onChange = () => void reload();
  watchFile(spec.file, { interval: options.pollIntervalMs ?? 2000, persistent: false }, onChange);
  return { ready, stop: () => unwatchFile(spec.file, onChange) };
}

export function watchBundleConfigMap(
  spec: { name: string; configMap: { namespace: string; name: string; key: string } },
  cache: ConfigMapCache,
  options: BundleWatchOptions,
): BundleWatcher {
  const { namespace, name, key } = spec.configMap;
  const loader = new Loader(spec.name, `ConfigMap ${namespace}/${name} key ${key}`, options);
  const isOurs = (cm: ConfigMapLike) => cm.metadata?.namespace === namespace && cm.metadata?.name === name;
  const reload = (cm: ConfigMapLike) => loader.load(async () => configMapBytes(cm, key));
  let settle!: () => void;
  const ready = new Promise<void>((resolve) => (settle = resolve));
  const off = cache.addHandlers({
    onAdd: (cm) => void (isOurs(cm) && reload(cm).then(settle)),
    onUpdate: (cm, old) => void (isOurs(cm) && cm !== old && reload(cm)),
    onDelete: (cm) =>
      void (
        isOurs(cm) &&
        loader.refuse('the ConfigMap was deleted; the bundle loaded from it stays until it returns')
      ),
  });
  const existing = cache.get(name, namespace);
  if (existing) {
    void reload(existing).then(settle);
  } else {
    loader.refuse('the ConfigMap does not exist yet; the bundle loads when it is created');
    settle();
  }
  return { ready, stop: off };
}

function configMapBytes(cm: ConfigMapLike, key: string): Uint8Array {
  const binary = cm.binaryData?.[key];
  if (binary !== undefined) return Buffer.from(binary, 'base64');
  const text = cm.data?.[key];
  if (text !== undefined) return Buffer.from(text, 'utf8');
  const keys = [...Object.keys(cm.binaryData ?? {}), ...Object.keys(cm.data ?? {})];
  throw new BundleKeyMissingError([key, keys.join(', ') || 'none', key]);
}

/** Starts a watcher for each configured bundle; ConfigMap sources need `configMaps`. */
export function watchBundles(
  specs: BundleSourceSpec[],
  options: BundleWatchOptions & { configMaps?: ConfigMapCache },
): BundleWatcher[] {
  return specs.map((spec) => {
    if ('file' in spec) return watchBundleFile(spec, options);
    if (!options.configMaps) {
      const loader = new Loader(
        spec.name,
        `ConfigMap ${spec.configMap.namespace}/${spec.configMap.name}`,
        options,
      );
      loader.refuse('ConfigMap bundles need a cluster connection');
      return { ready: Promise.resolve(), stop: () => {} };
    }
    return watchBundleConfigMap(spec, options.configMaps, options);
  });
}
