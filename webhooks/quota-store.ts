// Where the reservation ledgers live: one ConfigMap per tenant, tenantgate-quota-<tenant>, in the operator's
// namespace, owned by the Tenant (garbage-collected with it). Reads are live GETs, not a cache: a decision
// made on a stale ledger would be thrown away by the 409 anyway. Writes carry the resourceVersion they
// were computed from, so two replicas can never both write over the same version.
import { createHash } from 'node:crypto';
import { TENANT_LABEL } from '../api/index.ts';
import { createObject, replaceObject } from '../kube/apply.ts';
import type { KubeClient } from '../kube/client.ts';
import { KINDS } from '../kube/resources.ts';
import type { KubeObject } from '../kube/types.ts';

export interface StoredLedger {
  data: Record<string, string>;
  /** resourceVersion the data was read at; undefined when there is no ledger yet */
  version?: string;
}

export interface LedgerOwner {
  tenant: string;
  /** the Tenant's uid, for the owner reference; without it the ledger is written unowned */
  uid?: string;
}

/** Read a tenant's ledger; write it back only if nobody else did in between (409 Conflict otherwise). */
export interface LedgerStore {
  /** where a tenant's ledger is, for messages ("ConfigMap ns/name") */
  describe(tenant: string): string;
  read(tenant: string, signal: AbortSignal): Promise<StoredLedger>;
  /** throws a KubeApiError 409 (isConflict) when `version` is no longer current (or, creating, taken) */
  write(
    owner: LedgerOwner,
    data: Record<string, string>,
    version: string | undefined,
    signal: AbortSignal,
  ): Promise<void>;
}

export const LEDGER_PREFIX = 'tenantgate-quota-';
const MAX_NAME = 253;

/** tenantgate-quota-<tenant>; a tenant name too long for that gets a hashed suffix instead of its tail. */
export function ledgerName(tenant: string): string {
  const name = LEDGER_PREFIX + tenant;
  if (name.length <= MAX_NAME) return name;
  const hash = createHash('sha256').update(tenant).digest('hex').slice(0, 10);
  return `${name.slice(0, MAX_NAME - hash.length - 1).replace(/[.-]+$/, '')}-${hash}`;
}

type LedgerConfigMap = KubeObject & { data?: Record<string, string> };

export class ConfigMapLedgerStore implements LedgerStore {
  readonly #client: KubeClient;
  readonly #namespace: string;

  constructor(options: { client: KubeClient; namespace: string }) {
    this.#client = options.client;
    this.#namespace = options.namespace;
  }

  describe(tenant: string): string {
    return `ConfigMap ${this.#namespace}/${ledgerName(tenant)}`;
  }

  async read(tenant: string, signal: AbortSignal): Promise<StoredLedger> {
    const cm = await this.#client.get<LedgerConfigMap>(
      KINDS.ConfigMap,
      { name: ledgerName(tenant), namespace: this.#namespace },
      signal,
    );
    if (!cm) return { data: {} };
    return {
      data: cm.data ?? {},
      ...(cm.metadata?.resourceVersion ? { version: cm.metadata.resourceVersion } : {}),
    };
  }

  async write(
    owner: LedgerOwner,
    data: Record<string, string>,
    version: string | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    const obj = {
      apiVersion: KINDS.ConfigMap.apiVersion,
      kind: KINDS.ConfigMap.kind,
      metadata: {
        name: ledgerName(owner.tenant),
        namespace: this.#namespace,
        labels: {
          [TENANT_LABEL]: owner.tenant,
          'app.kubernetes.io/name': 'tenantgate',
          'app.kubernetes.io/component': 'quota-ledger',
        },
        ...(owner.uid
          ? {
              ownerReferences: [
                { apiVersion: KINDS.Tenant.apiVersion, kind: 'Tenant', name: owner.tenant, uid: owner.uid },
              ],
            }
          : {}),
        ...(version ? { resourceVersion: version } : {}),
      },
      data,
    };
    // POST fails with 409 AlreadyExists when another replica created it first; PUT with 409 Conflict when
    // the resourceVersion moved on: both mean "read again"
    if (version) await replaceObject(this.#client, obj, { signal });
    else await createObject(this.#client, obj, { signal });
  }
}
