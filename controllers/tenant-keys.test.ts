import { describe, expect, it } from 'vitest';
import { OWNER_ROLE_KEY, tenantKey, tenantWorkKeys } from './tenant-keys.ts';

describe('Tenant work-queue keys', () => {
  it('round-trip through their queue form, names with slashes included', () => {
    for (const key of [OWNER_ROLE_KEY, tenantKey('acme'), tenantKey('a/b'), tenantKey('clusterrole')])
      expect(tenantWorkKeys.decode(tenantWorkKeys.encode(key))).toEqual(key);
  });

  it('give one queue entry per Tenant, apart from the owner ClusterRole', () => {
    expect(tenantWorkKeys.encode(tenantKey('acme'))).toBe(tenantWorkKeys.encode(tenantKey('acme')));
    expect(tenantWorkKeys.encode(tenantKey('clusterrole'))).not.toBe(tenantWorkKeys.encode(OWNER_ROLE_KEY));
  });

  it('decode nothing from a string no controller wrote', () => {
    expect(tenantWorkKeys.decode('namespace/acme')).toBeUndefined();
  });
});
