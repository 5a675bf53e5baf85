// Writes that the informer cache sees at once. Every write goes to the API server, and its answer goes
// into the kind's informer as a read-your-writes note (kube/read-your-writes.ts), so that the next
// get/list/byIndex returns what we just wrote (or no longer returns what we just deleted) instead of
// the version from before the write, which the watch has not replaced yet. Without it a reconciler
// would pair every write with noteWrite()/noteDelete() by hand, and a forgotten pair means a second,
// conflicting write on the next pass.
//
//   const writes = new WriteThrough({ client, informers });          // the process's shared factory
//   const ns = await writes.create<Namespace>(want);                   // informers.informer(Namespace).get()
//   await writes.mergePatch<Tenant>(tenantRef(t), { metadata: {...} }); // ... sees these at once
//   await writes.delete(cachedNamespace, { preconditions: { uid } });
//
// Only informers somebody already asked the factory for are told: a write never opens a watch. Dry-run
// writes change nothing, so they are not noted. Handlers see none of this, only the real watch events.
import { defineError } from '../lib/errors.ts';
import {
  applyObject,
  applyStatus,
  createObject,
  deleteObject,
  jsonPatch,
  mergePatch,
  replaceObject,
  type ApplyOptions,
  type DeleteOptions,
  type JsonPatchOp,
  type Named,
  type WriteOptions,
} from './apply.ts';
import type { KubeClient } from './client.ts';
import type { InformerFactory } from './informer-factory.ts';
import type { KubeObject } from './types.ts';

export const UnnamedObjectError = defineError(
  'TG_KUBE_UNNAMED_OBJECT',
  'cannot delete %s: the object needs apiVersion, kind and metadata.name (pass the cached object or a reference)',
);

export interface WriteThroughOptions {
  client: KubeClient;
  /** the process's shared factory: the same informers every reader uses */
  informers: InformerFactory;
}

export class WriteThrough {
  readonly client: KubeClient;
  readonly #informers: InformerFactory;

  constructor(options: WriteThroughOptions) {
    this.client = options.client;
    this.#informers = options.informers;
  }

  /** Server-side apply (see applyObject). */
  async apply<T extends KubeObject = KubeObject>(obj: Named, options: ApplyOptions = {}): Promise<T> {
    return this.#noted(await applyObject<T>(this.client, obj, options), options);
  }

  /** Server-side apply of the status subresource (see applyStatus). */
  async applyStatus<T extends KubeObject = KubeObject>(
    target: Named,
    status: unknown,
    options: ApplyOptions = {},
  ): Promise<T> {
    return this.#noted(await applyStatus<T>(this.client, target, status, options), options);
  }

  /** POST; 409 AlreadyExists when the name is taken (see createObject). */
  async create<T extends KubeObject = KubeObject>(obj: Named, options: WriteOptions = {}): Promise<T> {
    return this.#noted(await createObject<T>(this.client, obj, options), options);
  }

  /** PUT (see replaceObject). */
  async replace<T extends KubeObject = KubeObject>(obj: Named, options: WriteOptions = {}): Promise<T> {
    return this.#noted(await replaceObject<T>(this.client, obj, options), options);
  }

  /** JSON merge patch (see mergePatch). */
  async mergePatch<T extends KubeObject = KubeObject>(
    target: Named,
    patch: unknown,
    options: WriteOptions = {},
  ): Promise<T> {
    return this.#noted(await mergePatch<T>(this.client, target, patch, options), options);
  }

  /** JSON patch (see jsonPatch). */
  async jsonPatch<T extends KubeObject = KubeObject>(
    target: Named,
    ops: JsonPatchOp[],
    options: WriteOptions = {},
  ): Promise<T> {
    return this.#noted(await jsonPatch<T>(this.client, target, ops, options), options);
  }

  /**
   * DELETE `obj` (a cached object, or a reference with apiVersion, kind and name); true when deleted,
   * false when it was already gone. Either way the cache stops returning it, unless what it holds is
   * another incarnation (a different UID from `preconditions.uid` or `obj`'s).
   */
  async delete(obj: KubeObject, options: DeleteOptions = {}): Promise<boolean> {
    const { apiVersion, kind, metadata } = obj;
    if (!apiVersion || !kind || !metadata?.name)
      throw new UnnamedObjectError([`${kind ?? '?'} ${metadata?.namespace ?? ''}/${metadata?.name ?? '?'}`]);
    const ref: Named = { apiVersion, kind, metadata: { name: metadata.name, namespace: metadata.namespace } };
    const deleted = await deleteObject(this.client, ref, options);
    const uid = options.preconditions?.uid ?? metadata.uid;
    this.#informers
      .existing({ apiVersion, kind })
      ?.noteDelete({ ...ref, metadata: { ...ref.metadata, uid } });
    return deleted;
  }

  #noted<T extends KubeObject>(written: T, options: WriteOptions): T {
    if (!options.dryRun && written.apiVersion && written.kind)
      this.#informers.existing({ apiVersion: written.apiVersion, kind: written.kind })?.noteWrite(written);
    return written;
  }
}
