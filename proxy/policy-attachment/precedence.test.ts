import { describe, expect, it } from 'vitest';
import type { TargetRef } from '../../api/common.ts';
import { point } from '../../test/helpers/ratelimit.ts';
import { governing, indexPolicies } from './precedence.ts';
import type { AttachablePolicy } from './targets.ts';

function policy(
  name: string,
  refs: Partial<TargetRef>[],
  extra: { ts?: string; broken?: boolean } = {},
): AttachablePolicy & { spec: { broken: boolean } } {
  return {
    metadata: { namespace: 'team', name, ...(extra.ts ? { creationTimestamp: extra.ts } : {}) },
    spec: {
      targetRefs: refs.map((r) => ({
        group: 'gateway.networking.k8s.io',
        kind: 'HTTPRoute',
        name: 'api',
        ...r,
      })) as TargetRef[],
      broken: extra.broken ?? false,
    },
  };
}
const validate = (p: ReturnType<typeof policy>) => (p.spec.broken ? ['spec.broken: is true'] : []);
const gov = (index: ReturnType<typeof indexPolicies>, ...args: Parameters<typeof point>) =>
  governing(index, point(...args))?.id;

describe('indexPolicies', () => {
  const policies = [
    policy('route', [{ name: 'api' }], { ts: '2025-01-01T00:00:00Z' }),
    policy('broken-rule', [{ name: 'api', sectionName: 'login' }], { broken: true }),
    policy('broken-older', [{ name: 'web' }], { ts: '2024-01-01T00:00:00Z', broken: true }),
    policy('web', [{ name: 'web' }], { ts: '2025-01-01T00:00:00Z' }),
  ];

  it("'ignore': invalid policies take no part", () => {
    const index = indexPolicies(policies, { validate, invalid: 'ignore' });
    expect(gov(index, { route: 'api', ruleName: 'login' })).toBe('team/route');
    expect(gov(index, { route: 'web' })).toBe('team/web');
    expect(index.conflicts.size).toBe(0);
    expect([...index.invalid.keys()].sort()).toEqual(['team/broken-older', 'team/broken-rule']);
  });

  it("'govern': invalid policies govern their targets like valid ones, so a kind can fail closed", () => {
    const index = indexPolicies(policies, { validate, invalid: 'govern' });
    expect(gov(index, { route: 'api', ruleName: 'login' })).toBe('team/broken-rule');
    expect(gov(index, { route: 'api', ruleIndex: 1 })).toBe('team/route');
    expect(gov(index, { route: 'web' })).toBe('team/broken-older');
    expect(index.conflicts.get('team/web')).toEqual([{ targetIndex: 0, winner: 'team/broken-older' }]);
  });

  it('reads a policy listed twice once, and ranks policies without timestamps last, then by name', () => {
    const index = indexPolicies(
      [
        policy('b', [{ name: 'x' }]),
        policy('a', [{ name: 'x' }]),
        policy('b', [{ name: 'x' }]),
        policy('c', [{ name: 'x' }], { ts: '2030-01-01T00:00:00Z' }),
      ],
      { validate },
    );
    expect(gov(index, { route: 'x' })).toBe('team/c');
    expect(index.conflicts.get('team/a')).toEqual([{ targetIndex: 0, winner: 'team/c' }]);
    expect(index.policies.size).toBe(3);
  });
});
