// The shared informer factory: one per process, handed to every component (operator, webhooks, proxy), so
// that the process holds ONE list+watch (and one cache) per kind whoever asks.
//
//   const informers = new InformerFactory({ client });
//   const ns = informers.informer(KINDS.Namespace);   // same instance for every caller
//   informers.start();                                // starts all, and any asked for later
//   await informers.waitForSync([KINDS.Namespace]);
//   await informers.stop();
//
// Informers are cluster-wide and unfiltered: a filtered watch would be a second watch of the same kind.
// Use the KINDS constants (kube/resources.ts) so that everyone asks for the same apiVersion.
import type { Logger } from '../lib/logger.ts';
import type { KubeClient } from './client.ts';
import { Informer } from './informer.ts';
import { kindKey, type KindRef } from './resources.ts';
import type { KubeObject } from './types.ts';

export interface InformerFactoryOptions {
  client: KubeClient;
  logger?: Logger;
  /** passed to every informer; see InformerOptions */
  backoff?: { initialMs?: number; maxMs?: number };
  watchTimeoutSeconds?: number;
}

export class InformerFactory {
  readonly client: KubeClient;
  readonly #options: InformerFactoryOptions;
  readonly #informers = new Map<string, Informer<KubeObject>>();
  #started = false;

  constructor(options: InformerFactoryOptions) {
    this.client = options.client;
    this.#options = options;
  }

  /** The informer of a kind; created on first request, started at once if the factory is started. */
  informer<T extends KubeObject = KubeObject>(kind: KindRef): Informer<T> {
    const key = kindKey(kind);
    let informer = this.#informers.get(key);
    if (!informer) {
      informer = new Informer<KubeObject>({
        client: this.client,
        kind: { apiVersion: kind.apiVersion, kind: kind.kind },
        logger: this.#options.logger,
        backoff: this.#options.backoff,
        watchTimeoutSeconds: this.#options.watchTimeoutSeconds,
      });
      this.#informers.set(key, informer);
      if (this.#started) informer.start();
    }
    return informer as unknown as Informer<T>;
  }

  /** The informer of a kind if somebody asked for it already; never creates one (nor a watch). */
  existing<T extends KubeObject = KubeObject>(kind: KindRef): Informer<T> | undefined {
    return this.#informers.get(kindKey(kind)) as unknown as Informer<T> | undefined;
  }

  start(): void {
    this.#started = true;
    for (const informer of this.#informers.values()) informer.start();
  }

  async stop(): Promise<void> {
    this.#started = false;
    await Promise.all([...this.#informers.values()].map((i) => i.stop()));
  }

  /** True when every informer asked for so far (or the listed kinds) has synced. */
  hasSynced(kinds?: KindRef[]): boolean {
    return this.#select(kinds).every((i) => i.hasSynced());
  }

  async waitForSync(
    kinds?: KindRef[],
    options: { timeoutMs?: number; signal?: AbortSignal } = {},
  ): Promise<void> {
    await Promise.all(this.#select(kinds).map((i) => i.waitForSync(options)));
  }

  /** Kinds whose informer has not synced yet, with the reason if one is known (for /readyz). */
  pending(): string[] {
    return [...this.#informers.entries()]
      .filter(([, i]) => !i.hasSynced())
      .map(([key, i]) => (i.lastError ? `${key}: ${i.lastError}` : key));
  }

  #select(kinds?: KindRef[]): Informer<KubeObject>[] {
    if (!kinds) return [...this.#informers.values()];
    return kinds.map((k) => this.informer(k));
  }
}
