import { describe, expect, it } from 'vitest';
import { compileRateLimitPolicies } from './attach.ts';
import { LocalStore } from './local-store.ts';
import type { RateLimitRequestPolicy } from './policy.ts';
import { point, rateLimitPolicy, request } from '../../test/helpers/ratelimit.ts';

const one = (name: string) => [{ name, requests: 1, unit: 'Hour' as const }];
const gatewayPolicy = (name: string, sectionName?: string, creationTimestamp?: string) =>
  rateLimitPolicy({
    name,
    namespace: 'infra',
    targetRefs: [{ kind: 'Gateway', name: 'shared', sectionName }],
    limits: one(name),
    creationTimestamp,
  });

function governor(
  attach: ReturnType<typeof compileRateLimitPolicies>['attach'],
  p: Parameters<typeof point>[0],
): string | undefined {
  const list = attach(point(p));
  expect(list.length).toBeLessThanOrEqual(1);
  return list[0]?.name;
}

describe('compileRateLimitPolicies', () => {
  const store = new LocalStore({ clock: () => 0 });

  it('lets the most specific target govern: rule > route > listener > gateway', () => {
    const { attach } = compileRateLimitPolicies(
      [
        gatewayPolicy('gw'),
        gatewayPolicy('gw-https', 'https'),
        rateLimitPolicy({ name: 'route', targetRefs: [{ name: 'api' }], limits: one('r') }),
        rateLimitPolicy({
          name: 'rule',
          targetRefs: [{ name: 'api', sectionName: 'login' }],
          limits: one('l'),
        }),
      ],
      { store },
    );
    expect(governor(attach, { route: 'api', ruleName: 'login' })).toBe('team/rule');
    expect(governor(attach, { route: 'api', ruleName: 'other' })).toBe('team/route');
    expect(governor(attach, { route: 'api' })).toBe('team/route');
    expect(governor(attach, { route: 'web', listener: 'https' })).toBe('infra/gw-https');
    expect(governor(attach, { route: 'web', listener: 'http' })).toBe('infra/gw');
    expect(governor(attach, { route: 'web', gateway: 'other' })).toBeUndefined();
    expect(governor(attach, { route: 'api', kind: 'GRPCRoute' })).toBe('infra/gw');
  });

  it('resolves two policies on one target in favour of the older, then by name', () => {
    const older = rateLimitPolicy({
      name: 'b-older',
      limits: one('x'),
      creationTimestamp: '2025-01-01T00:00:00Z',
    });
    const newer = rateLimitPolicy({
      name: 'a-newer',
      limits: one('x'),
      creationTimestamp: '2025-06-01T00:00:00Z',
    });
    const { attach, index } = compileRateLimitPolicies([newer, older], { store });
    expect(governor(attach, {})).toBe('team/b-older');
    expect(index.conflicts.get('team/a-newer')).toEqual([{ targetIndex: 0, winner: 'team/b-older' }]);
    const untimed = compileRateLimitPolicies(
      [rateLimitPolicy({ name: 'z', limits: one('x') }), rateLimitPolicy({ name: 'y', limits: one('x') })],
      { store },
    );
    expect(governor(untimed.attach, {})).toBe('team/y');
  });

  it('ignores an invalid policy, so a less specific one still applies', () => {
    const broken = rateLimitPolicy({ name: 'broken', limits: [{ name: 'x', requests: 0, unit: 'Second' }] });
    const { attach, index } = compileRateLimitPolicies([broken, gatewayPolicy('gw')], { store });
    expect(governor(attach, {})).toBe('infra/gw');
    expect(index.invalid.get('team/broken')).toEqual([
      'spec.limits[0].requests: must be an integer from 1 to 1000000000 (got 0)',
    ]);
  });

  it('counts a Gateway-level limit per route by default, and shared when asked', () => {
    const perRoute = compileRateLimitPolicies([gatewayPolicy('gw')], {
      store: new LocalStore({ clock: () => 0 }),
    }).attach;
    const shared = compileRateLimitPolicies([gatewayPolicy('gw')], {
      store: new LocalStore({ clock: () => 0 }),
      gatewayLimitScope: 'Shared',
    }).attach;
    const hit = (attach: typeof perRoute, route: string) =>
      (
        attach(point({ route }))[0]!.evaluate(
          request({ route: { kind: 'HTTPRoute', namespace: 'team', name: route, ruleIndex: 0 } }),
        ) as { allow: boolean }
      ).allow;
    expect([hit(perRoute, 'a'), hit(perRoute, 'b'), hit(perRoute, 'a')]).toEqual([true, true, false]);
    expect([hit(shared, 'a'), hit(shared, 'b')]).toEqual([true, false]);
  });

  it('counts a route policy per target, and keeps counts across recompiles', () => {
    const s = new LocalStore({ clock: () => 0 });
    const policy = rateLimitPolicy({ targetRefs: [{ name: 'a' }, { name: 'b' }], limits: one('x') });
    const first = compileRateLimitPolicies([policy], { store: s }).attach;
    const hit = (attach: typeof first, route: string) =>
      (attach(point({ route }))[0]!.evaluate(request()) as { allow: boolean }).allow;
    expect([hit(first, 'a'), hit(first, 'b')]).toEqual([true, true]);
    const second = compileRateLimitPolicies(
      [{ ...policy, metadata: { ...policy.metadata, generation: 2 } }],
      { store: s },
    ).attach;
    expect([hit(second, 'a'), hit(second, 'b')]).toEqual([false, false]);
  });

  it('hands out one policy instance per counter scope (cheap to call for every rule)', () => {
    const { attach } = compileRateLimitPolicies([rateLimitPolicy({ limits: one('x') })], { store });
    const a = attach(point({ ruleIndex: 0 }));
    const b = attach(point({ ruleIndex: 1, listener: 'https' }));
    expect(a).toBe(b);
    expect((a[0] as RateLimitRequestPolicy).limits[0]!.keyPrefix).toBe('{team/limits}:HTTPRoute/team/api:x:');
  });
});
