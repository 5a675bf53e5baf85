// Writes: server-side apply with one field manager, status patches, merge/JSON patches, create, delete;
// generic over any kind (apiVersion/kind -> path through kube/resources.ts). Plus needsApply(), which
// tells from the cache whether an apply would change anything, so that a reconciler that finds the world
// as it wants it makes no API call at all.
//
//   await applyObject(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
//   await applyStatus(client, { apiVersion, kind: 'Tenant', metadata: { name } }, status);
//   await mergePatch(client, ns, { metadata: { resourceVersion, labels: { x: null } } });
//   await deleteObject(client, obj, { preconditions: { uid } });     // false when it was already gone
//
// Apply uses force=true by default: tenantgate takes back the fields it owns when someone else edited
// them (that is how drift gets repaired). Callers that must not take over an object they do not own
// check ownership first and pass metadata.resourceVersion, which apply treats as a precondition.
import { ContentType, isNotFound, type KubeClient } from './client.ts';
import { resourcePath } from './resources.ts';
import type { KubeObject, ManagedFieldsEntry, ObjectMeta, OwnerReference } from './types.ts';

/** The one field manager every tenantgate write uses. */
export const FIELD_MANAGER = 'tenantgate';

export interface WriteOptions {
  fieldManager?: string;
  /** "status" for the status subresource */
  subresource?: string;
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface ApplyOptions extends WriteOptions {
  /** take fields over from other managers; default true */
  force?: boolean;
}

/** Any object with apiVersion, kind and metadata.name (and namespace for namespaced kinds). */
export type Named = {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string; namespace?: string };
  // `any`, not `unknown`: only an `any` index signature accepts interface types (Lease, RoleBinding...)
  // as well as object literals with kind-specific fields (spec, rules, data...)
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [field: string]: any;
};

async function pathFor(
  client: KubeClient,
  obj: Named,
  subresource?: string,
  collection = false,
): Promise<string> {
  const info = await client.resources.resolve(obj);
  const { name, namespace } = obj.metadata ?? {};
  return resourcePath(info, { namespace, name: collection ? undefined : name, subresource });
}

function writeQuery(options: WriteOptions) {
  return { fieldManager: options.fieldManager ?? FIELD_MANAGER, dryRun: options.dryRun ? 'All' : undefined };
}

/** One write request: `target` names the object (or, with `collection`, its collection, for POST). */
interface Write {
  method: 'PATCH' | 'POST' | 'PUT';
  target: Named;
  body: unknown;
  contentType?: ContentType;
  collection?: boolean;
  force?: boolean;
}

async function write<T>(client: KubeClient, w: Write, options: WriteOptions): Promise<T> {
  return client.request<T>({
    method: w.method,
    path: await pathFor(client, w.target, w.collection ? undefined : options.subresource, w.collection),
    query: { ...writeQuery(options), ...(w.force !== undefined ? { force: w.force } : {}) },
    body: w.body,
    contentType: w.contentType,
    signal: options.signal,
  });
}

/** Server-side apply (PATCH application/apply-patch+yaml; JSON is YAML). Returns the object as stored. */
export function applyObject<T extends KubeObject = KubeObject>(
  client: KubeClient,
  obj: Named,
  options: ApplyOptions = {},
): Promise<T> {
  const force = options.force ?? true;
  return write<T>(
    client,
    { method: 'PATCH', target: obj, body: obj, contentType: ContentType.Apply, force },
    options,
  );
}

/** Server-side apply of the status subresource of `target` (apiVersion, kind, metadata.name/namespace). */
export function applyStatus<T extends KubeObject = KubeObject>(
  client: KubeClient,
  target: Named,
  status: unknown,
  options: ApplyOptions = {},
): Promise<T> {
  const { name, namespace } = target.metadata;
  const body = { apiVersion: target.apiVersion, kind: target.kind, metadata: { name, namespace }, status };
  return applyObject<T>(client, body, { ...options, subresource: 'status' });
}

/** POST; fails with 409 AlreadyExists when the name is taken (unlike apply, which would merge into it). */
export function createObject<T extends KubeObject = KubeObject>(
  client: KubeClient,
  obj: Named,
  options: WriteOptions = {},
): Promise<T> {
  return write<T>(client, { method: 'POST', target: obj, body: obj, collection: true }, options);
}

/** PUT (optimistic concurrency through metadata.resourceVersion). */
export function replaceObject<T extends KubeObject = KubeObject>(
  client: KubeClient,
  obj: Named,
  options: WriteOptions = {},
): Promise<T> {
  return write<T>(client, { method: 'PUT', target: obj, body: obj }, options);
}

/** JSON merge patch (RFC 7386): null deletes a key; lists are replaced whole. A metadata.resourceVersion in
 *  the patch makes it conditional. */
export function mergePatch<T extends KubeObject>(
  client: KubeClient,
  target: Named,
  patch: unknown,
  options: WriteOptions = {},
): Promise<T> {
  return write<T>(
    client,
    { method: 'PATCH', target, body: patch, contentType: ContentType.MergePatch },
    options,
  );
}

export type JsonPatchOp =
  { op: 'add' | 'replace' | 'test'; path: string; value: unknown } | { op: 'remove'; path: string };

/** JSON patch (RFC 6902); use a `test` op as a precondition. */
export function jsonPatch<T extends KubeObject>(
  client: KubeClient,
  target: Named,
  ops: JsonPatchOp[],
  options: WriteOptions = {},
): Promise<T> {
  return write<T>(
    client,
    { method: 'PATCH', target, body: ops, contentType: ContentType.JsonPatch },
    options,
  );
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  /** delete only that incarnation / that version */
  preconditions?: { uid?: string; resourceVersion?: string };
  signal?: AbortSignal;
}

/** DELETE; resolves true when deleted (or deletion started), false when it was already gone. */
export async function deleteObject(
  client: KubeClient,
  obj: Named,
  options: DeleteOptions = {},
): Promise<boolean> {
  try {
    await client.request({
      method: 'DELETE',
      path: await pathFor(client, obj),
      body: {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        propagationPolicy: options.propagationPolicy ?? 'Background',
        preconditions: options.preconditions,
      },
      signal: options.signal,
    });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

// ---- would an apply change anything? -----------------------------------------------------------------

/**
 * True when applying `desired` as `fieldManager` would change `actual`: a desired field is missing or
 * different, or the manager owns a label, annotation, owner reference or finalizer that `desired` no
 * longer has (apply would remove it). Lists in spec-like fields compare element-wise and must have the
 * same length (atomic lists, as RBAC subjects and ReferenceGrant from/to are). Fields the server
 * defaults must be spelled out in `desired`, or every check will say "changed".
 */
export function needsApply(
  desired: KubeObject,
  actual: KubeObject | undefined,
  fieldManager = FIELD_MANAGER,
): boolean {
  if (!actual) return true;
  const dm = desired.metadata ?? {};
  const am = actual.metadata ?? {};
  if (!contains(am.labels ?? {}, dm.labels ?? {})) return true;
  if (!contains(am.annotations ?? {}, dm.annotations ?? {})) return true;
  if (!(dm.finalizers ?? []).every((f) => am.finalizers?.includes(f))) return true;
  if (!ownerRefsContain(am.ownerReferences ?? [], dm.ownerReferences ?? [])) return true;

  // only what the manager *applied* is removed by its next apply (fields it set with create/update/patch
  // stay until removed explicitly)
  const owned = ownedMetadata(am.managedFields ?? [], fieldManager, 'Apply');
  if ([...owned.labels].some((key) => !(key in (dm.labels ?? {})))) return true;
  if ([...owned.annotations].some((key) => !(key in (dm.annotations ?? {})))) return true;
  if ([...owned.finalizers].some((f) => !(dm.finalizers ?? []).includes(f))) return true;
  const desiredUids = new Set((dm.ownerReferences ?? []).map((r) => r.uid));
  if ([...owned.ownerUids].some((uid) => !desiredUids.has(uid))) return true;

  for (const [key, value] of Object.entries(desired)) {
    if (key === 'apiVersion' || key === 'kind' || key === 'metadata' || key === 'status') continue;
    if (!contains((actual as Record<string, unknown>)[key], value)) return true;
  }
  return false;
}

/** True when every field of `want` is in `have` with the same value (arrays: same length, element-wise). */
export function contains(have: unknown, want: unknown): boolean {
  if (want === undefined) return true;
  if (Array.isArray(want)) {
    return Array.isArray(have) && have.length === want.length && want.every((w, i) => contains(have[i], w));
  }
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
    return Object.entries(want).every(([k, w]) => contains((have as Record<string, unknown>)[k], w));
  }
  return have === want;
}

function ownerRefsContain(have: OwnerReference[], want: OwnerReference[]): boolean {
  return want.every((w) => {
    const h = have.find((r) => r.uid === w.uid);
    return h !== undefined && contains(h, w);
  });
}

export interface OwnedMetadata {
  labels: Set<string>;
  annotations: Set<string>;
  finalizers: Set<string>;
  ownerUids: Set<string>;
}

/** The metadata keys a manager owns on the main resource (through one operation, or any), from managedFields. */
export function ownedMetadata(
  entries: ManagedFieldsEntry[],
  fieldManager = FIELD_MANAGER,
  operation?: 'Apply' | 'Update',
): OwnedMetadata {
  const out: OwnedMetadata = {
    labels: new Set(),
    annotations: new Set(),
    finalizers: new Set(),
    ownerUids: new Set(),
  };
  for (const entry of entries) {
    if (entry.manager !== fieldManager || entry.subresource) continue;
    if (operation && entry.operation !== operation) continue;
    const meta = (entry.fieldsV1?.['f:metadata'] ?? {}) as Record<
      string,
      Record<string, unknown> | undefined
    >;
    for (const key of Object.keys(meta['f:labels'] ?? {}))
      if (key.startsWith('f:')) out.labels.add(key.slice(2));
    for (const key of Object.keys(meta['f:annotations'] ?? {}))
      if (key.startsWith('f:')) out.annotations.add(key.slice(2));
    for (const key of Object.keys(meta['f:finalizers'] ?? {})) {
      if (key.startsWith('v:')) out.finalizers.add(JSON.parse(key.slice(2)) as string);
    }
    for (const key of Object.keys(meta['f:ownerReferences'] ?? {})) {
      if (key.startsWith('k:')) {
        const uid = (JSON.parse(key.slice(2)) as { uid?: string }).uid;
        if (uid) out.ownerUids.add(uid);
      }
    }
  }
  return out;
}
