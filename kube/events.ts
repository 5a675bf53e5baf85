// Kubernetes Events (events.k8s.io/v1) about our objects, as `kubectl describe` and `kubectl get events`
// show them, with repeats aggregated instead of piling up:
//
//   const recorder = new EventRecorder({ client, reportingController: 'tenantgate.io/operator' });
//   recorder.record(tenant, { type: 'Warning', reason: 'NamespaceConflict', action: 'Reconcile', note: '...' });
//   await recorder.flush();   // in tests, and on shutdown (close() flushes too)
//
// The same (object, type, reason, action, note) seen again within `aggregateWindowMs` (10 min) bumps the
// first Event's series.count / series.lastObservedTime instead of creating a new Event; those bumps are
// batched into at most one PATCH per Event per `flushIntervalMs` (5 s). record() never throws and never
// waits: a failed Event write is logged, not retried (Events are best effort, like client-go's).
// Events about cluster-scoped objects (a Tenant) go to the `default` namespace, as kubectl expects.
import os from 'node:os';
import { debounce, type Debounced } from '../lib/async.ts';
import type { Logger } from '../lib/logger.ts';
import { componentLogger } from '../lib/logger.ts';
import { errorMessage } from '../lib/errors.ts';
import { createObject, mergePatch } from './apply.ts';
import { isNotFound, type KubeClient } from './client.ts';
import { KINDS } from './resources.ts';
import type { KubeObject } from './types.ts';

export interface EventInput {
  type: 'Normal' | 'Warning';
  /** CamelCase, why: e.g. NamespaceConflict */
  reason: string;
  /** CamelCase, what we did or failed to do: e.g. Reconcile, Create, Deny */
  action: string;
  /** human-readable; truncated to 1 KiB */
  note: string;
  related?: KubeObject;
}

export interface EventRecorderOptions {
  client: KubeClient;
  /** e.g. tenantgate.io/operator */
  reportingController: string;
  /** this process; default: the host name */
  reportingInstance?: string;
  /** where Events about cluster-scoped objects go; default "default" */
  clusterScopedNamespace?: string;
  aggregateWindowMs?: number;
  flushIntervalMs?: number;
  logger?: Logger;
}

interface Tracked {
  name: string;
  namespace: string;
  count: number;
  lastObserved: string;
  expires: number;
  dirty: boolean;
  created: Promise<boolean>;
}

const MAX_TRACKED = 4096;

export class EventRecorder {
  readonly #options: EventRecorderOptions;
  readonly #log: Logger;
  readonly #tracked = new Map<string, Tracked>();
  readonly #inflight = new Set<Promise<unknown>>();
  /** repeats are written at most once per flush interval, counting from the first unwritten one */
  readonly #scheduleFlush: Debounced;
  #closed = false;

  constructor(options: EventRecorderOptions) {
    this.#options = options;
    this.#log = options.logger ?? componentLogger('events');
    const intervalMs = options.flushIntervalMs ?? 5_000;
    this.#scheduleFlush = debounce(() => void this.flush(), intervalMs, { maxWaitMs: intervalMs });
  }

  record(regarding: KubeObject, input: EventInput): void {
    if (this.#closed || !regarding.metadata?.name) return;
    const now = Date.now();
    const key = dedupKey(regarding, input);
    const seen = this.#tracked.get(key);
    if (seen && seen.expires > now) {
      seen.count++;
      seen.lastObserved = microTime(new Date(now));
      seen.dirty = true;
      this.#scheduleFlush();
      return;
    }
    const tracked: Tracked = {
      name: eventName(regarding.metadata.name, now),
      namespace: regarding.metadata.namespace || (this.#options.clusterScopedNamespace ?? 'default'),
      count: 1,
      lastObserved: microTime(new Date(now)),
      expires: now + (this.#options.aggregateWindowMs ?? 600_000),
      dirty: false,
      created: Promise.resolve(false),
    };
    tracked.created = this.#track(this.#create(tracked, regarding, input, now));
    this.#tracked.delete(key);
    this.#tracked.set(key, tracked);
    if (this.#tracked.size > MAX_TRACKED) this.#tracked.delete(this.#tracked.keys().next().value!);
  }

  /** Waits for every Event write in flight and writes pending series counts. */
  async flush(): Promise<void> {
    this.#scheduleFlush.cancel();
    await Promise.all([...this.#inflight]);
    const dirty = [...this.#tracked.values()].filter((t) => t.dirty);
    await Promise.all(dirty.map((t) => this.#track(this.#patchSeries(t))));
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  async #create(t: Tracked, regarding: KubeObject, input: EventInput, now: number): Promise<boolean> {
    const event = {
      apiVersion: KINDS.Event.apiVersion,
      kind: KINDS.Event.kind,
      metadata: { name: t.name, namespace: t.namespace },
      eventTime: microTime(new Date(now)),
      reportingController: this.#options.reportingController,
      reportingInstance: (this.#options.reportingInstance ?? os.hostname()).slice(0, 128),
      action: input.action,
      reason: input.reason,
      type: input.type,
      note: truncate(input.note, 1000),
      regarding: reference(regarding),
      related: input.related ? reference(input.related) : undefined,
    };
    try {
      await createObject(this.#options.client, event);
      return true;
    } catch (err) {
      this.#log.warn('could not record an Event', {
        reason: input.reason,
        object: regarding.metadata?.name,
        error: errorMessage(err),
      });
      return false;
    }
  }

  async #patchSeries(t: Tracked): Promise<void> {
    t.dirty = false;
    if (!(await t.created)) return;
    const target = {
      apiVersion: KINDS.Event.apiVersion,
      kind: KINDS.Event.kind,
      metadata: { name: t.name, namespace: t.namespace },
    };
    try {
      await mergePatch(this.#options.client, target, {
        series: { count: t.count, lastObservedTime: t.lastObserved },
      });
    } catch (err) {
      // expired (Events live an hour) or removed: the next repeat starts a new Event
      if (isNotFound(err)) t.expires = 0;
      else this.#log.warn('could not update an Event series', { event: t.name, error: errorMessage(err) });
    }
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
    return p;
  }
}

function dedupKey(obj: KubeObject, input: EventInput): string {
  const m = obj.metadata ?? {};
  return [
    m.uid ?? `${obj.kind}/${m.namespace}/${m.name}`,
    input.type,
    input.reason,
    input.action,
    input.note,
  ].join('\u0000');
}

function reference(obj: KubeObject) {
  const m = obj.metadata ?? {};
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: m.name,
    namespace: m.namespace,
    uid: m.uid,
    resourceVersion: m.resourceVersion,
  };
}

/** "<object>.<hex time><random>", lower-cased and limited to what an object name allows. */
function eventName(objectName: string, now: number): string {
  const base =
    objectName
      .toLowerCase()
      .replace(/[^a-z0-9.-]/g, '-')
      .replace(/^[^a-z0-9]+/, '')
      .slice(0, 200) || 'object';
  const suffix = `${now.toString(16)}${Math.floor(Math.random() * 0xffff)
    .toString(16)
    .padStart(4, '0')}`;
  return `${base}.${suffix}`;
}

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function truncate(text: string, max: number): string {
  return Buffer.byteLength(text) <= max
    ? text
    : `${Buffer.from(text)
        .subarray(0, max - 3)
        .toString()
        .replace(/\uFFFD$/, '')}...`;
}
