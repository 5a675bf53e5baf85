// Informer: a list+watch of one kind that keeps a read cache and calls handlers on changes, and that
// survives what the API server does to watches. Get one through the shared factory
// (kube/informer-factory.ts) so that a process holds one watch per kind, whoever asks:
//
//   const tenants = informers.informer<Tenant>(KINDS.Tenant);
//   const off = tenants.addHandlers({ onAdd, onUpdate, onDelete, onSynced }, { resyncPeriodMs: 600_000 });
//   await tenants.waitForSync();
//   tenants.get('acme'); tenants.list('some-namespace'); tenants.byIndex('tenant', 'acme');
//
// Behaviour:
// - paginated list, then watch from its resourceVersion with bookmarks; a server-side watch timeout just
//   resumes from the last resourceVersion seen;
// - 410 Gone (HTTP status or in-stream ERROR event; the resourceVersion was compacted away) -> re-list and
//   diff against the cache, so handlers see the adds/updates/deletes they missed;
// - any other failure (connection refused, 5xx, 403, 404 because a CRD is not installed yet, a stream
//   that goes quiet for longer than the watch timeout) -> restart with exponential backoff (0.5 s .. 30 s,
//   jittered), resuming from the last resourceVersion. client-node's informer stops on those; this one
//   never does until stop(). Every restart counts in tenantgate_informer_restarts_total{kind,reason}.
// - handlers: onAdd(obj), onUpdate(obj, old), onDelete(lastKnown), onSynced() once the first list is in;
//   a handler added after sync gets every cached object as onAdd, then onSynced. A periodic resync
//   (per handler) calls onUpdate(obj, obj) for every cached object: reconcilers re-check the world
//   without any API call. Handlers run synchronously on the watch's turn: keep them cheap (enqueue a key).
// - read-your-writes: writers may call noteWrite(obj)/noteDelete(obj) with an API server response so
//   that get/list/byIndex reflect it before the watch event arrives (an overlay dropped when the watch
//   catches up, or after 30 s). Handlers still see the real watch events.
import type { Logger } from '../lib/logger.ts';
import { componentLogger } from '../lib/logger.ts';
import { errorMessage } from '../lib/errors.ts';
import { Counter, Gauge } from 'prom-client';
import { registry } from '../lib/metrics.ts';
import { isGone, KubeApiError, type KubeClient } from './client.ts';
import { kindKey, type KindRef } from './resources.ts';
import { objectKey, type KubeObject, type KubeStatus } from './types.ts';

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

export interface InformerOptions {
  client: KubeClient;
  kind: KindRef;
  /** watch one namespace only; default: all */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** list page size; default 500 */
  pageSize?: number;
  /** restart backoff; default 500 ms doubling to 30 s */
  backoff?: { initialMs?: number; maxMs?: number };
  /** server-side watch timeout; default a random 5-10 min so that many watches do not reconnect together */
  watchTimeoutSeconds?: number;
  logger?: Logger;
}

export type IndexFunc<T> = (obj: T) => string[];

const restarts = new Counter({
  name: 'tenantgate_informer_restarts_total',
  help: 'Informer list/watch restarts by kind and reason (gone: re-list after 410; error: backoff after another failure)',
  labelNames: ['kind', 'reason'] as const,
  registers: [registry],
});
const cachedObjects = new Gauge({
  name: 'tenantgate_informer_objects',
  help: 'Objects in an informer cache',
  labelNames: ['kind'] as const,
  registers: [registry],
});

const OVERLAY_TTL_MS = 30_000;
/** built in: list(namespace) */
const NAMESPACE_INDEX = 'namespace';

class GoneError extends Error {}

interface Registered<T> {
  handlers: InformerHandlers<T>;
  timer?: NodeJS.Timeout;
}

interface OverlayEntry<T> {
  obj: T;
  deleted: boolean;
  expires: number;
}

export class Informer<T extends KubeObject = KubeObject> {
  readonly kind: KindRef;
  readonly #options: InformerOptions;
  readonly #log: Logger;
  readonly #metricKind: string;
  #store = new Map<string, T>();
  readonly #overlay = new Map<string, OverlayEntry<T>>();
  readonly #handlers = new Set<Registered<T>>();
  readonly #indexers = new Map<string, { fn: IndexFunc<T>; index: Map<string, Set<string>> }>();
  #rv = '';
  #synced = false;
  #started = false;
  #stopped = false;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #reconnectRequested = false;
  #lastError: string | undefined;
  readonly #syncWaiters: (() => void)[] = [];

  constructor(options: InformerOptions) {
    this.kind = options.kind;
    this.#options = options;
    this.#metricKind = kindKey(options.kind);
    this.#log = options.logger ?? componentLogger('informer', { kind: this.#metricKind });
    this.addIndex(NAMESPACE_INDEX, (obj) => [obj.metadata?.namespace ?? '']);
  }

  /** Starts listing and watching (idempotent). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort?.abort();
    this.#wake?.();
    for (const r of this.#handlers) clearInterval(r.timer);
    await this.#loop;
    this.#started = false;
  }

  hasSynced(): boolean {
    return this.#synced;
  }

  /** The last list/watch failure, while the informer is retrying; undefined when healthy. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Resolves once the first list is in the cache; rejects on timeout/abort. */
  waitForSync(options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<void> {
    if (this.#synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#syncWaiters.push(done);
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const detail = this.#lastError ? `: ${this.#lastError}` : '';
          reject(
            new Error(
              `informer for ${this.#metricKind} did not sync within ${options.timeoutMs} ms${detail}`,
            ),
          );
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
      reg.timer = setInterval(() => this.#resyncTo(reg), options.resyncPeriodMs);
      reg.timer.unref();
    }
    return () => {
      clearInterval(reg.timer);
      this.#handlers.delete(reg);
    };
  }

  /** Adds an index: `byIndex(name, value)` returns every object whose `fn(obj)` includes value. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.#indexers.has(name)) return;
    const index = new Map<string, Set<string>>();
    this.#indexers.set(name, { fn, index });
    for (const [key, obj] of this.#store) indexAdd(index, fn(obj), key);
  }

  get(name: string, namespace?: string): T | undefined {
    const key = namespace ? `${namespace}/${name}` : name;
    const o = this.#overlayGet(key);
    if (o) return o.deleted ? undefined : o.obj;
    return this.#store.get(key);
  }

  /** Every cached object, or those of one namespace. */
  list(namespace?: string): T[] {
    if (namespace !== undefined) return this.byIndex(NAMESPACE_INDEX, namespace);
    const out: T[] = [];
    for (const [key, obj] of this.#store) this.#pushOverlayed(out, key, obj);
    return this.#addOverlayOnly(out, () => true);
  }

  byIndex(name: string, value: string): T[] {
    const indexer = this.#indexers.get(name);
    if (!indexer) throw new Error(`informer ${this.#metricKind} has no index '${name}'`);
    const out: T[] = [];
    for (const key of indexer.index.get(value) ?? []) {
      const obj = this.#store.get(key);
      if (obj) this.#pushOverlayed(out, key, obj);
    }
    return this.#addOverlayOnly(out, (obj) => indexer.fn(obj).includes(value));
  }

  /** Replays every cached object to every handler as onUpdate(obj, obj). */
  resync(): void {
    for (const reg of this.#handlers) this.#resyncTo(reg);
  }

  /** Read-your-writes: make get/list reflect an object the API server just returned to a write. */
  noteWrite(obj: T): void {
    // the watch may already have delivered this version (or a later one) before our response arrived
    if (!isNewer(obj.metadata?.resourceVersion, this.#rv)) return;
    this.#overlay.set(objectKey(obj), { obj, deleted: false, expires: Date.now() + OVERLAY_TTL_MS });
  }

  /** Read-your-writes: make get/list forget an object we just deleted. */
  noteDelete(obj: T): void {
    const key = objectKey(obj);
    const cached = this.#store.get(key);
    // already gone from the cache, or what is cached is a new incarnation: nothing to hide
    if (!cached || cached.metadata?.uid !== obj.metadata?.uid) return;
    this.#overlay.set(key, { obj: cached, deleted: true, expires: Date.now() + OVERLAY_TTL_MS });
  }

  /** Test hook: drop the watch and resume from `resourceVersion` (e.g. a compacted one, to provoke 410). */
  forceReconnect(resourceVersion?: string): void {
    if (resourceVersion !== undefined) this.#rv = resourceVersion;
    if (!this.#started || this.#stopped) return;
    this.#reconnectRequested = true;
    this.#abort?.abort();
  }

  // ---- the loop ------------------------------------------------------------------------------------

  async #run(): Promise<void> {
    const initial = this.#options.backoff?.initialMs ?? 500;
    const max = this.#options.backoff?.maxMs ?? 30_000;
    let delay = initial;
    while (!this.#stopped) {
      this.#abort = new AbortController();
      const signal = this.#abort.signal;
      let healthy = false;
      try {
        if (!this.#rv) await this.#relist(signal);
        healthy = await this.#watch(signal);
        this.#lastError = undefined;
        delay = initial;
      } catch (err) {
        if (this.#stopped) break;
        if (this.#reconnectRequested) {
          this.#reconnectRequested = false;
          continue;
        }
        if (err instanceof GoneError || isGone(err)) {
          // our resourceVersion is too old for the server: list again and diff
          this.#rv = '';
          restarts.inc({ kind: this.#metricKind, reason: 'gone' });
          this.#log.info('resource version expired; re-listing', {
            kind: this.#metricKind,
            error: errorMessage(err),
          });
          continue;
        }
        if (healthy) delay = initial;
        this.#lastError = describeError(err);
        restarts.inc({ kind: this.#metricKind, reason: 'error' });
        this.#log.warn('list/watch failed; retrying', {
          kind: this.#metricKind,
          error: this.#lastError,
          retryInMs: delay,
        });
        await this.#sleep(delay * (0.8 + Math.random() * 0.4));
        delay = Math.min(delay * 2, max);
      }
    }
  }

  async #relist(signal: AbortSignal): Promise<void> {
    const { client, kind, namespace, labelSelector, fieldSelector } = this.#options;
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await client.list<T>(
        kind,
        { namespace, labelSelector, fieldSelector, limit: this.#options.pageSize ?? 500, continue: cont },
        signal,
      );
      for (const item of page.items) {
        // list items come without apiVersion/kind; handlers want whole objects
        item.apiVersion ??= kind.apiVersion;
        item.kind ??= kind.kind;
        items.push(item);
      }
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion ?? '';
    } while (cont);
    this.#replace(items);
    this.#rv = rv;
    this.#lastError = undefined;
    if (!this.#synced) {
      this.#synced = true;
      for (const waiter of this.#syncWaiters.splice(0)) waiter();
      for (const reg of this.#handlers) this.#call(() => reg.handlers.onSynced?.());
    }
  }

  /** Watches until the server ends the stream; true if it ran long enough to count as healthy. */
  async #watch(signal: AbortSignal): Promise<boolean> {
    const { client, kind, namespace, labelSelector, fieldSelector } = this.#options;
    const timeoutSeconds = this.#options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    const path = await client.pathOf(kind, { namespace });
    const body = await client.stream(
      path,
      {
        watch: 1,
        resourceVersion: this.#rv,
        allowWatchBookmarks: true,
        timeoutSeconds,
        labelSelector,
        fieldSelector,
      },
      // a stream that says nothing for longer than the server's own timeout is dead
      { signal, idleTimeoutMs: (timeoutSeconds + 30) * 1000 },
    );
    const opened = Date.now();
    this.#lastError = undefined;
    let events = 0;
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of body) {
        buffered += decoder.decode(chunk as Buffer, { stream: true });
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line) {
            this.#onWatchEvent(line);
            events++;
          }
        }
      }
    } finally {
      body.destroy();
    }
    return events > 0 || Date.now() - opened > 5_000;
  }

  #onWatchEvent(line: string): void {
    let event: { type?: string; object?: T & KubeStatus };
    try {
      event = JSON.parse(line);
    } catch {
      throw new Error(`undecodable watch event: ${line.slice(0, 200)}`);
    }
    const obj = event.object;
    if (event.type === 'ERROR') {
      if (obj?.code === 410) throw new GoneError(obj.message ?? 'gone');
      throw new KubeApiError('WATCH', this.#metricKind, obj?.code ?? 500, obj ?? {});
    }
    if (!obj?.metadata) return;
    const rv = obj.metadata.resourceVersion ?? '';
    if (event.type === 'ADDED' || event.type === 'MODIFIED') this.#upsert(obj);
    else if (event.type === 'DELETED') this.#remove(objectKey(obj), obj);
    // BOOKMARK: nothing but the resourceVersion
    if (rv) this.#rv = rv;
  }

  // ---- store ---------------------------------------------------------------------------------------

  #replace(items: T[]): void {
    const next = new Map<string, T>();
    for (const obj of items) next.set(objectKey(obj), obj);
    const old = this.#store;
    for (const [key, prev] of old) if (!next.has(key)) this.#remove(key, prev);
    for (const obj of items) this.#upsert(obj);
    this.#overlay.clear();
  }

  #upsert(obj: T): void {
    const key = objectKey(obj);
    const old = this.#store.get(key);
    if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) return;
    this.#store.set(key, obj);
    this.#reindex(key, old, obj);
    this.#settleOverlay(key, obj, false);
    cachedObjects.set({ kind: this.#metricKind }, this.#store.size);
    for (const reg of this.#handlers) {
      if (old) this.#call(() => reg.handlers.onUpdate?.(obj, old));
      else this.#call(() => reg.handlers.onAdd?.(obj));
    }
  }

  #remove(key: string, lastKnown: T): void {
    const old = this.#store.get(key);
    if (!old) return;
    this.#store.delete(key);
    this.#reindex(key, old, undefined);
    this.#settleOverlay(key, lastKnown, true);
    cachedObjects.set({ kind: this.#metricKind }, this.#store.size);
    for (const reg of this.#handlers) this.#call(() => reg.handlers.onDelete?.(old));
  }

  #reindex(key: string, old: T | undefined, obj: T | undefined): void {
    for (const { fn, index } of this.#indexers.values()) {
      if (old) indexRemove(index, fn(old), key);
      if (obj) indexAdd(index, fn(obj), key);
    }
  }

  // ---- read-your-writes overlay ----------------------------------------------------------------------

  #settleOverlay(key: string, obj: T, deleted: boolean): void {
    const o = this.#overlay.get(key);
    if (!o) return;
    // the watch has caught up with our write: any deletion, or this version or a later one
    if (deleted || !isNewer(o.obj.metadata?.resourceVersion, obj.metadata?.resourceVersion))
      this.#overlay.delete(key);
  }

  #overlayGet(key: string): OverlayEntry<T> | undefined {
    const o = this.#overlay.get(key);
    if (o && o.expires < Date.now()) {
      this.#overlay.delete(key);
      return undefined;
    }
    return o;
  }

  /** pushes the overlay's version of a cached object (nothing if we deleted it) */
  #pushOverlayed(out: T[], key: string, obj: T): void {
    const o = this.#overlayGet(key);
    if (!o) out.push(obj);
    else if (!o.deleted) out.push(o.obj);
  }

  /** adds objects we wrote that the cache has not seen yet */
  #addOverlayOnly(out: T[], matches: (obj: T) => boolean): T[] {
    for (const key of [...this.#overlay.keys()]) {
      const o = this.#overlayGet(key);
      if (o && !o.deleted && !this.#store.has(key) && matches(o.obj)) out.push(o.obj);
    }
    return out;
  }

  // ---- helpers -------------------------------------------------------------------------------------

  #resyncTo(reg: Registered<T>): void {
    if (!this.#synced) return;
    for (const obj of this.#store.values()) this.#call(() => reg.handlers.onUpdate?.(obj, obj));
  }

  #call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error('informer handler threw', { kind: this.#metricKind, error: errorMessage(err) });
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}

/**
 * Whether resourceVersion `a` is later than `b`. Resource versions are opaque by contract; in practice
 * they are etcd revisions (decimal integers, one sequence per resource). When either is not a decimal
 * integer, `a` counts as newer (the overlay then lives until the watch delivers the same version or TTL).
 */
export function isNewer(a: string | undefined, b: string | undefined): boolean {
  if (!a) return false;
  if (!b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return a !== b;
  return a.length !== b.length ? a.length > b.length : a > b;
}

function indexAdd(index: Map<string, Set<string>>, values: string[], key: string): void {
  for (const v of values) {
    let set = index.get(v);
    if (!set) index.set(v, (set = new Set()));
    set.add(key);
  }
}

function indexRemove(index: Map<string, Set<string>>, values: string[], key: string): void {
  for (const v of values) {
    const set = index.get(v);
    set?.delete(key);
    if (set?.size === 0) index.delete(v);
  }
}

function describeError(err: unknown): string {
  const msg = errorMessage(err);
  if (err instanceof KubeApiError && err.statusCode === 404) return `${msg} (is the CRD installed?)`;
  return msg;
}
