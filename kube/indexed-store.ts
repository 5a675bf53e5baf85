// The informer's cache: objects by key ("namespace/name", or "name" for cluster-scoped kinds) plus
// secondary indexes kept up to date on every set/delete, as client-go's ThreadSafeStore + Indexers. An
// index maps each object to the values it should be found under (owner UID, tenant name...), so that a
// reconciler asks "which Namespaces belong to tenant acme" without scanning the whole cache.
import { defineError } from '../lib/errors.ts';
import type { KubeObject } from './types.ts';

/** The values an object is found under in an index; an empty list keeps it out of the index. */
export type IndexFunc<T> = (obj: T) => string[];

export const DuplicateIndexError = defineError(
  'TG_INFORMER_DUPLICATE_INDEX',
  "the %s cache already has an index named '%s': two callers would read each other's values; give each index its own name",
);
export const UnknownIndexError = defineError(
  'TG_INFORMER_UNKNOWN_INDEX',
  "the %s cache has no index named '%s'; add it with addIndex() before querying it",
);

export class IndexedStore<T extends KubeObject> {
  /** what the cache holds (e.g. "v1/Namespace"), for error messages */
  readonly #what: string;
  readonly #objects = new Map<string, T>();
  readonly #indexes = new Map<string, { fn: IndexFunc<T>; keysByValue: Map<string, Set<string>> }>();

  constructor(what: string) {
    this.#what = what;
  }

  /** Adds an index, built at once over what is cached. A name can be registered once. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    if (this.#indexes.has(name)) throw new DuplicateIndexError([this.#what, name]);
    const keysByValue = new Map<string, Set<string>>();
    this.#indexes.set(name, { fn, keysByValue });
    for (const [key, obj] of this.#objects) addKey(keysByValue, fn(obj), key);
  }

  get size(): number {
    return this.#objects.size;
  }

  get(key: string): T | undefined {
    return this.#objects.get(key);
  }

  has(key: string): boolean {
    return this.#objects.has(key);
  }

  entries(): IterableIterator<[string, T]> {
    return this.#objects.entries();
  }

  values(): IterableIterator<T> {
    return this.#objects.values();
  }

  /** Stores `obj` under `key` and re-indexes it; returns what was there before. */
  set(key: string, obj: T): T | undefined {
    const old = this.#objects.get(key);
    this.#objects.set(key, obj);
    this.#reindex(key, old, obj);
    return old;
  }

  /** Removes `key` from the cache and every index; returns what was there. */
  delete(key: string): T | undefined {
    const old = this.#objects.get(key);
    if (!old) return undefined;
    this.#objects.delete(key);
    this.#reindex(key, old, undefined);
    return old;
  }

  /** Keys of the cached objects whose index function yields `value`. */
  keysByIndex(name: string, value: string): ReadonlySet<string> {
    return this.#index(name).keysByValue.get(value) ?? new Set();
  }

  /** Whether `obj` (cached or not) would be found under `value` in the index `name`. */
  matchesIndex(name: string, obj: T, value: string): boolean {
    return this.#index(name).fn(obj).includes(value);
  }

  #index(name: string) {
    const index = this.#indexes.get(name);
    if (!index) throw new UnknownIndexError([this.#what, name]);
    return index;
  }

  #reindex(key: string, old: T | undefined, obj: T | undefined): void {
    for (const { fn, keysByValue } of this.#indexes.values()) {
      if (old) removeKey(keysByValue, fn(old), key);
      if (obj) addKey(keysByValue, fn(obj), key);
    }
  }
}

function addKey(keysByValue: Map<string, Set<string>>, values: string[], key: string): void {
  for (const v of values) {
    let keys = keysByValue.get(v);
    if (!keys) keysByValue.set(v, (keys = new Set()));
    keys.add(key);
  }
}

function removeKey(keysByValue: Map<string, Set<string>>, values: string[], key: string): void {
  for (const v of values) {
    const keys = keysByValue.get(v);
    keys?.delete(key);
    if (keys?.size === 0) keysByValue.delete(v);
  }
}
