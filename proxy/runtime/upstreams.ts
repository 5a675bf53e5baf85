// Pooled keep-alive connections to backends: one pool per endpoint — our own HTTP/1.1 client (H1Pool,
// proxy/upstream/) or undici's H2CClient for cleartext HTTP/2 — shared by every route table generation
// so a reload keeps warm connections. Dispatchers a new table no longer references are closed after a
// grace period (in-flight requests finish first).
import { H2CClient } from 'undici';
import type { UpstreamDispatcher } from '../upstream/dispatcher.ts';
import { H1Pool } from '../upstream/h1-pool.ts';
import type { UpstreamEndpoint } from '../table/types.ts';

export interface UpstreamOptions {
  /** HTTP/1.1 connections per endpoint */
  connections?: number;
  /** how long an unreferenced dispatcher stays open after a reload */
  retireAfterMs?: number;
  connectTimeoutMs?: number;
}

const KEEP_ALIVE_MS = 4_000;
// route timeouts are enforced by the pipeline; this only bounds a backend that never answers
const SILENCE_TIMEOUT_MS = 300_000;

export class UpstreamRegistry {
  readonly #dispatchers = new Map<string, UpstreamDispatcher>();
  readonly #retiring = new Map<string, NodeJS.Timeout>();
  readonly #options: Required<UpstreamOptions>;

  constructor(options: UpstreamOptions = {}) {
    this.#options = {
      connections: options.connections ?? 128,
      retireAfterMs: options.retireAfterMs ?? 30_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
    };
  }

  /** The dispatcher for an endpoint, memoized on the endpoint object for the table's lifetime. */
  get(endpoint: UpstreamEndpoint): UpstreamDispatcher {
    const memo = endpoint.dispatcher;
    if (memo !== undefined) return memo;
    let d = this.#dispatchers.get(endpoint.key);
    if (d === undefined) {
      d = this.#create(endpoint);
      this.#dispatchers.set(endpoint.key, d);
    }
    const timer = this.#retiring.get(endpoint.key);
    if (timer) {
      clearTimeout(timer);
      this.#retiring.delete(endpoint.key);
    }
    endpoint.dispatcher = d;
    return d;
  }

  #create(endpoint: UpstreamEndpoint): UpstreamDispatcher {
    if (endpoint.protocol === 'h2c')
      return new H2CClient(endpoint.origin, {
        connectTimeout: this.#options.connectTimeoutMs,
        keepAliveTimeout: KEEP_ALIVE_MS,
        headersTimeout: SILENCE_TIMEOUT_MS,
        bodyTimeout: SILENCE_TIMEOUT_MS,
        maxConcurrentStreams: 100,
      }) as unknown as UpstreamDispatcher;
    return new H1Pool(endpoint.origin, {
      connections: this.#options.connections,
      connectTimeoutMs: this.#options.connectTimeoutMs,
      keepAliveMs: KEEP_ALIVE_MS,
      silenceTimeoutMs: SILENCE_TIMEOUT_MS,
    });
  }

  /** After a table swap: schedule closing the dispatchers the new table does not reference. */
  retain(keys: ReadonlySet<string>): void {
    for (const key of this.#dispatchers.keys()) {
      if (keys.has(key) || this.#retiring.has(key)) continue;
      const timer = setTimeout(() => {
        this.#retiring.delete(key);
        const d = this.#dispatchers.get(key);
        this.#dispatchers.delete(key);
        d?.close().catch(() => undefined);
      }, this.#options.retireAfterMs);
      timer.unref();
      this.#retiring.set(key, timer);
    }
  }

  get size(): number {
    return this.#dispatchers.size;
  }

  async close(): Promise<void> {
    for (const t of this.#retiring.values()) clearTimeout(t);
    this.#retiring.clear();
    const all = [...this.#dispatchers.values()];
    this.#dispatchers.clear();
    await Promise.all(all.map((d) => d.close().catch(() => undefined)));
  }
}
