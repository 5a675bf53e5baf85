// Informer: a list+watch of one kind that keeps a read cache and calls handlers on changes. Get one
// through the shared factory (kube/informer-factory.ts) so that a process holds one watch per kind,
// whoever asks:
//
//   const tenants = informers.informer<Tenant>(KINDS.Tenant);
//   const off = tenants.addHandlers({ onAdd, onUpdate, onDelete, onSynced }, { resyncPeriodMs: 600_000 });
//   await tenants.waitForSync();
//   tenants.get('acme'); tenants.list('some-namespace'); tenants.byIndex('tenant', 'acme');
//
// As in client-go, the work is split by job:
// - kube/reflector.ts: list, watch, bookmarks, re-list after 410 Gone, backoff after other failures;
// - kube/indexed-store.ts: the cache and its indexes;
// - kube/read-your-writes.ts: what our own writes changed, before the watch tells us;
// - this file: handlers, periodic resync, the synced state and the object-count metric.
//
// Handlers: onAdd(obj), onUpdate(obj, old), onDelete(lastKnown), onSynced() once the first list is in;
// a handler added after sync gets every cached object as onAdd, then onSynced. A periodic resync (per
// handler) calls onUpdate(obj, obj) for every cached object: reconcilers re-check the world without any
// API call. Handlers run synchronously on the watch's turn: keep them cheap (enqueue a key).
//
// Read-your-writes: writers call noteWrite(obj)/noteDelete(obj) with the API server's response (or
// write through kube/write-through.ts, which does it for them) so that get/list/byIndex reflect it
// before the watch event arrives. Handlers still see only the real watch events.
import { Gauge } from 'prom-client';
import { defineError, errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { componentLogger } from '../lib/logger.ts';
import { registry } from '../lib/metrics.ts';
import { IndexedStore, type IndexFunc } from './indexed-store.ts';
import { ReadYourWritesOverlay } from './read-your-writes.ts';
import { Reflector, type ListWatchOptions } from './reflector.ts';
import { kindKey, type KindRef } from './resources.ts';
import { objectKey, type KubeObject } from './types.ts';

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  /** on a periodic resync `old === obj` */
  onUpdate?(obj: T, old: T): void;
  /** with the last state the cache knew */
  onDelete?(obj: T): void;
  onSynced?(): void;
}

export interface HandlerOptions {
  /** replay every cached object to this handler as onUpdate(obj, obj) this often; 0/undefined: never */
  resyncPeriodMs?: number;
}

export interface InformerOptions extends ListWatchOptions {
  logger?: Logger;
}

export const InformerSyncTimeoutError = defineError(
  'TG_INFORMER_SYNC_TIMEOUT',
  'informer for %s did not sync within %s ms%s',
);

const cachedObjects = new Gauge({
  name: 'tenantgate_informer_objects',
  help: 'Objects in an informer cache',
  labelNames: ['kind'] as const,
  registers: [registry],
});

/** built in: list(namespace) */
const NAMESPACE_INDEX = 'namespace';

interface Registered<T> {
  handlers: InformerHandlers<T>;
  resyncTimer?: NodeJS.Timeout;
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly kind: KindRef;
  readonly #log: Logger;
  readonly #kindLabel: string;
  readonly #store: IndexedStore<T>;
  readonly #overlay = new ReadYourWritesOverlay<T>();
  readonly #reflector: Reflector<T>;
  readonly #handlers = new Set<Registered<T>>();
  readonly #syncWaiters: (() => void)[] = [];
  #synced = false;

  constructor(options: InformerOptions) {
    this.kind = options.kind;
    this.#kindLabel = kindKey(options.kind);
    this.#log = options.logger ?? componentLogger('informer', { kind: this.#kindLabel });
    this.#store = new IndexedStore<T>(this.#kindLabel);
    this.#store.addIndex(NAMESPACE_INDEX, (obj) => [obj.metadata?.namespace ?? '']);
    this.#reflector = new Reflector<T>(
      { ...options, kindLabel: this.#kindLabel, logger: this.#log },
      {
        replace: (items) => this.#replace(items),
        upsert: (obj) => this.#upsert(obj),
        remove: (obj) => this.#remove(objectKey(obj)),
      },
    );
  }

  /** Starts listing and watching (idempotent). */
  start(): void {
    this.#reflector.start();
  }

  async stop(): Promise<void> {
    for (const reg of this.#handlers) clearInterval(reg.resyncTimer);
    await this.#reflector.stop();
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** The last list/watch failure, while the informer is retrying; undefined when healthy. */
  get lastError(): string | undefined {
    return this.#reflector.lastError;
  }

  /** Resolves once the first list is in the cache; rejects on timeout/abort. */
  waitForSync(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      this.#syncWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const detail = this.lastError ? `: ${this.lastError}` : '';
          reject(new InformerSyncTimeoutError([this.#kindLabel, options.timeoutMs!, detail]));
        }, options.timeoutMs);
      }
      options.signal?.addEventListener('abort', () => (clearTimeout(timer), reject(options.signal?.reason)), {
        once: true,
      });
    });
  }

  /** Registers handlers; returns a function that removes them. */
  addHandlers(handlers: InformerHandlers<T>, options: HandlerOptions = {}): () => void {
    const reg: Registered<T> = { handlers };
    this.#handlers.add(reg);
    if (this.#synced) {
      for (const obj of this.#store.values()) this.#call(() => handlers.onAdd?.(obj));
      this.#call(() => handlers.onSynced?.());
    }
    if (options.resyncPeriodMs) {
      reg.resyncTimer = setInterval(() => this.#resyncTo(reg), options.resyncPeriodMs);
      reg.resyncTimer.unref();
    }
    return () => {
      clearInterval(reg.resyncTimer);
      this.#handlers.delete(reg);
    };
  }

  /** Adds an index: `byIndex(name, value)` returns every object whose `fn(obj)` includes value. A name
   *  can be added once (TG_INFORMER_DUPLICATE_INDEX): the informer is shared, so a second registration
   *  would mean two callers disagree about what the index holds. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    this.#store.addIndex(name, fn);
  }

  get(name: string, namespace?: string): T | undefined {
    const key = namespace ? `${namespace}/${name}` : name;
    return this.#overlay.read(key, this.#store.get(key));
  }

  /** Every cached object, or those of one namespace. */
  list(namespace?: string): T[] {
    if (namespace !== undefined) return this.byIndex(NAMESPACE_INDEX, namespace);
    return this.#withOverlay(this.#store.entries(), () => true);
  }

  byIndex(name: string, value: string): T[] {
    const keys = this.#store.keysByIndex(name, value);
    const entries = [...keys].map((key) => [key, this.#store.get(key)!] as [string, T]);
    return this.#withOverlay(entries, (obj) => this.#store.matchesIndex(name, obj, value));
  }

  /** Replays every cached object to every handler as onUpdate(obj, obj). */
  resync(): void {
    for (const reg of this.#handlers) this.#resyncTo(reg);
  }

  /** Read-your-writes: make get/list reflect an object the API server just returned to a write. */
  noteWrite(obj: T): void {
    // the watch may already have delivered this version (or a later one) before our response arrived
    this.#overlay.noteWrite(objectKey(obj), obj, this.#reflector.resourceVersion);
  }

  /** Read-your-writes: make get/list forget an object we just deleted. Without a UID in `obj`, whatever
   *  the cache holds under its name is hidden (an unconditional delete removes any incarnation). */
  noteDelete(obj: T): void {
    const key = objectKey(obj);
    const cached = this.#store.get(key);
    const uid = obj.metadata?.uid;
    // already gone from the cache, or what is cached is a new incarnation: nothing to hide
    if (!cached || (uid !== undefined && cached.metadata?.uid !== uid)) return;
    this.#overlay.noteDelete(key, cached);
  }

  /** Test hook: drop the watch and resume from `resourceVersion` (e.g. a compacted one, to provoke 410). */
  forceReconnect(resourceVersion?: string): void {
    this.#reflector.forceReconnect(resourceVersion);
  }

  // ---- what the reflector delivers -----------------------------------------------------------------

  /** A fresh list: whatever the cache holds that it lacks was deleted while we were not watching. */
  #replace(items: T[]): void {
    const listed = new Set(items.map(objectKey));
    for (const [key] of [...this.#store.entries()]) if (!listed.has(key)) this.#remove(key);
    for (const obj of items) this.#upsert(obj);
    this.#overlay.clear();
    if (!this.#synced) {
      this.#synced = true;
      for (const waiter of this.#syncWaiters.splice(0)) waiter();
      for (const reg of this.#handlers) this.#call(() => reg.handlers.onSynced?.());
    }
  }

  #upsert(obj: T): void {
    const key = objectKey(obj);
    const cached = this.#store.get(key);
    // a re-list returns what we already have: not a change
    if (cached && cached.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    const old = this.#store.set(key, obj);
    this.#overlay.settle(key, obj, false);
    cachedObjects.set({ kind: this.#kindLabel }, this.#store.size);
    for (const reg of this.#handlers) {
      if (old) this.#call(() => reg.handlers.onUpdate?.(obj, old));
      else this.#call(() => reg.handlers.onAdd?.(obj));
    }
  }

  #remove(key: string): void {
    const old = this.#store.delete(key);
    if (!old) return;
    this.#overlay.settle(key, old, true);
    cachedObjects.set({ kind: this.#kindLabel }, this.#store.size);
    for (const reg of this.#handlers) this.#call(() => reg.handlers.onDelete?.(old));
  }

  // ---- helpers -------------------------------------------------------------------------------------

  /** The cache's objects as our own writes left them, plus those we wrote that it has not seen yet. */
  #withOverlay(cached: Iterable<[string, T]>, matches: (obj: T) => boolean): T[] {
    const out: T[] = [];
    for (const [key, obj] of cached) {
      const seen = this.#overlay.read(key, obj);
      if (seen) out.push(seen);
    }
    out.push(...this.#overlay.notYetCached((key) => this.#store.has(key), matches));
    return out;
  }

  #resyncTo(reg: Registered<T>): void {
    if (!this.#synced) return;
    for (const obj of this.#store.values()) this.#call(() => reg.handlers.onUpdate?.(obj, obj));
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error('informer handler threw', { kind: this.#kindLabel, error: errorMessage(err) });
    }
  }
}
