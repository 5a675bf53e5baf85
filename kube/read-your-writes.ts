// Read-your-writes for an informer cache. A reconciler that writes an object and reads it back from the
// cache a moment later would otherwise see the version from before its own write (the watch event is
// still on its way) and write again, or decide from stale state. The overlay holds what the API server
// answered to our writes, and what we deleted, until the watch catches up; reads consult it first.
// Handlers never see it: they still get the real watch events. Entries expire after a TTL so that a
// lost watch event cannot hide the cache's truth for long.
import type { KubeObject } from './types.ts';

/** How long a write may shadow the cache when the watch never delivers it. */
export const OVERLAY_TTL_MS = 30_000;

interface Entry<T> {
  obj: T;
  deleted: boolean;
  expires: number;
}

export class ReadYourWritesOverlay<T extends KubeObject> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #ttlMs: number;

  constructor(ttlMs = OVERLAY_TTL_MS) {
    this.#ttlMs = ttlMs;
  }

  /** Shadows the cache with `obj`, the API server's answer to our write, unless the cache (at
   *  `cacheVersion`) already has this version or a later one. */
  noteWrite(key: string, obj: T, cacheVersion: string): void {
    if (!isNewer(obj.metadata?.resourceVersion, cacheVersion)) return;
    this.#entries.set(key, { obj, deleted: false, expires: Date.now() + this.#ttlMs });
  }

  /** Hides `cached` (the cache's object at `key`) from reads: we just deleted it. */
  noteDelete(key: string, cached: T): void {
    this.#entries.set(key, { obj: cached, deleted: true, expires: Date.now() + this.#ttlMs });
  }

  /** The watch delivered `obj` at `key` (or its deletion): drop our entry once it is no longer ahead. */
  settle(key: string, obj: T, deleted: boolean): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    // any deletion, or this version or a later one, means the cache has caught up with our write
    if (deleted || !isNewer(entry.obj.metadata?.resourceVersion, obj.metadata?.resourceVersion))
      this.#entries.delete(key);
  }

  /** A fresh list replaces the whole cache: nothing we wrote before it can be ahead of it. */
  clear(): void {
    this.#entries.clear();
  }

  /** What a read of `key` returns, given the cache's object (if any): ours, nothing, or the cache's. */
  read(key: string, cached: T | undefined): T | undefined {
    const entry = this.#live(key);
    if (!entry) return cached;
    return entry.deleted ? undefined : entry.obj;
  }

  /** Objects we wrote that the cache does not hold yet (`inCache(key)` false) and that `matches`. */
  notYetCached(inCache: (key: string) => boolean, matches: (obj: T) => boolean): T[] {
    const out: T[] = [];
    for (const key of [...this.#entries.keys()]) {
      const entry = this.#live(key);
      if (entry && !entry.deleted && !inCache(key) && matches(entry.obj)) out.push(entry.obj);
    }
    return out;
  }

  #live(key: string): Entry<T> | undefined {
    const entry = this.#entries.get(key);
    if (entry && entry.expires < Date.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
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
