import { describe, expect, it } from 'vitest';
import { uniqueName } from './names.ts';

describe('uniqueName', () => {
  it('makes distinct DNS-1123 labels', () => {
    const names = new Set(Array.from({ length: 200 }, () => uniqueName('Tenant_Test')));
    expect(names.size).toBe(200);
    for (const n of names) expect(n).toMatch(/^tenant-test-[0-9a-f]{6}$/);
  });

  it('keeps long prefixes within 63 characters', () => {
    expect(uniqueName('x'.repeat(100)).length).toBeLessThanOrEqual(63);
  });
});
