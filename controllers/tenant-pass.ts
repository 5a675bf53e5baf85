// What the parts of a Tenant pass share: the writer, the caches, the Event recorder and the log (one
// context per controller), and the record of what one pass did (for Events and the log).
import type { Tenant } from '../api/tenant.ts';
import type { EventRecorder } from '../kube/events.ts';
import { KINDS } from '../kube/resources.ts';
import type { WriteThrough } from '../kube/write-through.ts';
import type { Logger } from '../lib/logger.ts';
import type { TenantInformers } from './tenant-informers.ts';

export interface TenantContext {
  /** every write goes through it, so the informers see it at once */
  writes: WriteThrough;
  informers: TenantInformers;
  recorder: EventRecorder;
  log: Logger;
}

/** What one pass did. */
export interface Pass {
  tenant: Tenant;
  uid: string;
  created: string[];
  updated: string[];
  removed: string[];
  /** existing namespaces handed over by the adopt-by annotation and now owned */
  adopted: string[];
  retrySoon: string[];
}

export function newPass(tenant: Tenant): Pass {
  return {
    tenant,
    uid: tenant.metadata.uid!,
    created: [],
    updated: [],
    removed: [],
    adopted: [],
    retrySoon: [],
  };
}

export function tenantRef(tenant: Tenant) {
  return {
    apiVersion: tenant.apiVersion ?? KINDS.Tenant.apiVersion,
    kind: 'Tenant' as const,
    metadata: { name: tenant.metadata.name },
  };
}

export const namespaceRef = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
