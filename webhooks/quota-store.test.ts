// The ConfigMap store against a real API server: test/integration/webhook-quota.test.ts.
import { describe, expect, it } from 'vitest';
import { ledgerName } from './quota-store.ts';

describe('ledgerName', () => {
  it('is tenantgate-quota-<tenant>', () => {
    expect(ledgerName('acme')).toBe('tenantgate-quota-acme');
  });

  it('stays a valid name for the longest tenant names, distinct for names that share a prefix', () => {
    const a = `${'a'.repeat(240)}.x-one`;
    const b = `${'a'.repeat(240)}.x-two`;
    for (const name of [ledgerName(a), ledgerName(b)]) {
      expect(name.length).toBeLessThanOrEqual(253);
      expect(name).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    }
    expect(ledgerName(a)).not.toBe(ledgerName(b));
  });
});
