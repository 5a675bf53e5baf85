// A map that holds at most `max` entries and forgets the least recently used ones, at O(1) per operation
// with no per-entry bookkeeping: two generations ("segmented" LRU). Entries go into the young Map; when it
// reaches half of `max` it becomes the old Map and the previous old Map is dropped whole. A hit in the old
// Map moves the entry back to the young one, so anything used within the last max/2 distinct keys stays.
// For caches on the request path, where a flood of distinct keys must not grow memory.
export class BoundedMap<K, V> {
  readonly max: number;
  readonly #generationSize: number;
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  readonly #onEvict: ((count: number) => void) | undefined;

  /** `onEvict` is told how many entries each rotation drops (for an evictions metric). */
  constructor(max: number, onEvict?: (count: number) => void) {
    this.max = Math.max(2, Math.floor(max));
    this.#generationSize = Math.floor(this.max / 2);
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  get(key: K): V | undefined {
    const v = this.#young.get(key);
    if (v !== undefined) return v;
    const o = this.#old.get(key);
    if (o === undefined) return undefined;
    this.#old.delete(key);
    this.set(key, o);
    return o;
  }

  set(key: K, value: V): void {
    this.#young.set(key, value);
    if (this.#young.size >= this.#generationSize) {
      if (this.#old.size > 0) this.#onEvict?.(this.#old.size);
      this.#old = this.#young;
      this.#young = new Map();
    }
  }

  clear(): void {
    this.#young = new Map();
    this.#old = new Map();
  }
}
