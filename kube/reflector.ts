// The reflector: keeps a cache in step with the API server by list, then watch, as client-go's
// Reflector does, and survives what the server does to watches. It knows nothing of handlers or
// indexes; it tells a sink what changed.
//
// - paginated list, then watch from its resourceVersion with bookmarks; a server-side watch timeout just
//   resumes from the last resourceVersion seen;
// - 410 Gone (HTTP status or in-stream ERROR event; the resourceVersion was compacted away) -> re-list;
//   the sink diffs the new list against its cache, so nothing missed goes unnoticed;
// - any other failure (connection refused, 5xx, 403, 404 because a CRD is not installed yet, a stream
//   that goes quiet for longer than the watch timeout) -> restart with exponential backoff (0.5 s .. 30 s,
//   jittered), resuming from the last resourceVersion. client-node's informer stops on those; this one
//   never does until stop(). Every restart counts in tenantgate_informer_restarts_total{kind,reason}.
import { Counter } from 'prom-client';
import { Backoff, sleep } from '../lib/async.ts';
import { streamLines } from '../lib/json-lines.ts';
import { defineError, errorMessage } from '../lib/errors.ts';
import type { Logger } from '../lib/logger.ts';
import { registry } from '../lib/metrics.ts';
import { isGone, KubeApiError, type KubeClient } from './client.ts';
import type { KindRef } from './resources.ts';
import type { KubeObject, KubeStatus } from './types.ts';

/** Where the reflector delivers what it learns. */
export interface ReflectorSink<T> {
  /** a complete list: whatever the cache holds that is not in it was deleted meanwhile */
  replace(items: T[]): void;
  upsert(obj: T): void;
  remove(obj: T): void;
}

/** What to list and watch, and how; the informer takes the same. */
export interface ListWatchOptions {
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
}

export interface ReflectorOptions extends ListWatchOptions {
  /** "v1/ConfigMap": the kind label of metrics and logs */
  kindLabel: string;
  logger: Logger;
}

const restarts = new Counter({
  name: 'tenantgate_informer_restarts_total',
  help: 'Informer list/watch restarts by kind and reason (gone: re-list after 410; error: backoff after another failure)',
  labelNames: ['kind', 'reason'] as const,
  registers: [registry],
});

export const WatchDecodeError = defineError(
  'TG_WATCH_DECODE',
  'watch of %s sent an event that is not JSON (%s); restarting the watch',
);

/** The server no longer has our resourceVersion (410 in the watch stream): only a re-list helps. */
class GoneError extends Error {}

export class Reflector<T extends KubeObject> {
  readonly #o: ReflectorOptions;
  readonly #sink: ReflectorSink<T>;
  /** the resourceVersion the cache is at; '' means "list first" */
  #rv = '';
  #running: Promise<void> | undefined;
  /** aborts the current list/watch request */
  #attempt: AbortController | undefined;
  /** aborts everything, including a backoff sleep */
  #stop: AbortController | undefined;
  #reconnectRequested = false;
  #lastError: string | undefined;

  constructor(options: ReflectorOptions, sink: ReflectorSink<T>) {
    this.#o = options;
    this.#sink = sink;
  }

  /** The resourceVersion of the latest list or watch event applied to the sink. */
  get resourceVersion(): string {
    return this.#rv;
  }

  /** The last list/watch failure, while retrying; undefined when healthy. */
  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Starts list+watch (idempotent); after stop(), resumes from the last resourceVersion. */
  start(): void {
    if (this.#running) return;
    const stop = (this.#stop = new AbortController());
    this.#running = this.#run(stop.signal);
  }

  async stop(): Promise<void> {
    this.#stop?.abort();
    this.#attempt?.abort();
    await this.#running;
    this.#running = undefined;
  }

  /** Test hook: drop the watch and resume from `resourceVersion` (e.g. a compacted one, to provoke 410). */
  forceReconnect(resourceVersion?: string): void {
    if (resourceVersion !== undefined) this.#rv = resourceVersion;
    if (!this.#running || this.#stop?.signal.aborted) return;
    this.#reconnectRequested = true;
    this.#attempt?.abort();
  }

  async #run(stopped: AbortSignal): Promise<void> {
    const backoff = new Backoff({
      initialMs: this.#o.backoff?.initialMs ?? 500,
      maxMs: this.#o.backoff?.maxMs ?? 30_000,
    });
    while (!stopped.aborted) {
      this.#attempt = new AbortController();
      const signal = this.#attempt.signal;
      try {
        if (!this.#rv) await this.#list(signal);
        await this.#watch(signal, () => backoff.reset());
        this.#lastError = undefined;
        backoff.reset();
      } catch (err) {
        if (stopped.aborted) break;
        if (this.#reconnectRequested) {
          this.#reconnectRequested = false;
          continue;
        }
        if (err instanceof GoneError || isGone(err)) {
          // our resourceVersion is too old for the server: list again and let the sink diff
          this.#rv = '';
          restarts.inc({ kind: this.#o.kindLabel, reason: 'gone' });
          this.#o.logger.info('resource version expired; re-listing', {
            kind: this.#o.kindLabel,
            error: errorMessage(err),
          });
          continue;
        }
        this.#lastError = describeError(err);
        restarts.inc({ kind: this.#o.kindLabel, reason: 'error' });
        const delay = backoff.next();
        this.#o.logger.warn('list/watch failed; retrying', {
          kind: this.#o.kindLabel,
          error: this.#lastError,
          retryInMs: Math.round(delay),
        });
        await sleep(delay, stopped);
      }
    }
  }

  async #list(signal: AbortSignal): Promise<void> {
    const { client, kind, namespace, labelSelector, fieldSelector } = this.#o;
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await client.list<T>(
        kind,
        { namespace, labelSelector, fieldSelector, limit: this.#o.pageSize ?? 500, continue: cont },
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
    // the cache is at `rv` once the sink has the list: a write noted meanwhile compares against it
    this.#rv = rv;
    this.#lastError = undefined;
    this.#sink.replace(items);
  }

  /** Watches until the server ends the stream. `onHealthy` runs at the first event: the watch works,
   *  so a failure after it starts its backoff from the beginning again. */
  async #watch(signal: AbortSignal, onHealthy: () => void): Promise<void> {
    const { client, kind, namespace, labelSelector, fieldSelector } = this.#o;
    const timeoutSeconds = this.#o.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
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
    this.#lastError = undefined;
    let healthy = false;
    for await (const line of streamLines(body)) {
      this.#onEvent(line);
      if (!healthy) onHealthy();
      healthy = true;
    }
  }

  #onEvent(line: string): void {
    let event: { type?: string; object?: T & KubeStatus };
    try {
      event = JSON.parse(line);
    } catch {
      throw new WatchDecodeError([this.#o.kindLabel, line.slice(0, 200)]);
    }
    const obj = event.object;
    if (event.type === 'ERROR') {
      if (obj?.code === 410) throw new GoneError(obj.message ?? 'gone');
      throw new KubeApiError('WATCH', this.#o.kindLabel, obj?.code ?? 500, obj ?? {});
    }
    if (!obj?.metadata) return;
    if (event.type === 'ADDED' || event.type === 'MODIFIED') this.#sink.upsert(obj);
    else if (event.type === 'DELETED') this.#sink.remove(obj);
    // BOOKMARK: nothing but the resourceVersion
    const rv = obj.metadata.resourceVersion ?? '';
    if (rv) this.#rv = rv;
  }
}

function describeError(err: unknown): string {
  const msg = errorMessage(err);
  if (err instanceof KubeApiError && err.statusCode === 404) return `${msg} (is the CRD installed?)`;
  return msg;
}
