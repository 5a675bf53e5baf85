// What the Tenant controller's work queue holds: a Tenant to reconcile, or the shared owner ClusterRole
// that every tenant's owner RoleBinding refers to. Typed, so that a handler cannot enqueue something no
// reconciler knows; the string form is only the queue's identity (see WorkKeys in controller.ts).
import type { WorkKeys } from './controller.ts';

export type TenantWorkKey =
  { readonly kind: 'Tenant'; readonly name: string } | { readonly kind: 'OwnerClusterRole' };

export const tenantKey = (name: string): TenantWorkKey => ({ kind: 'Tenant', name });
export const OWNER_ROLE_KEY: TenantWorkKey = { kind: 'OwnerClusterRole' };

const TENANT_PREFIX = 'tenant/';
const OWNER_ROLE_TEXT = 'clusterrole';

export const tenantWorkKeys: WorkKeys<TenantWorkKey> = {
  encode: (key) => (key.kind === 'Tenant' ? TENANT_PREFIX + key.name : OWNER_ROLE_TEXT),
  decode: (text) =>
    text === OWNER_ROLE_TEXT
      ? OWNER_ROLE_KEY
      : text.startsWith(TENANT_PREFIX)
        ? tenantKey(text.slice(TENANT_PREFIX.length))
        : undefined,
};
