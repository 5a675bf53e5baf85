import { describe, expect, it } from 'vitest';
import { rateLimitPolicy } from '../../test/helpers/ratelimit.ts';
import { validateRateLimitPolicy } from './validate.ts';

describe('validateRateLimitPolicy', () => {
  it('accepts the design.md example', () => {
    const p = rateLimitPolicy({
      limits: [
        {
          name: 'per-key',
          requests: 100,
          unit: 'Minute',
          clientSelectors: [{ headers: [{ name: 'X-API-Key', type: 'Distinct' }] }],
        },
        {
          name: 'per-ip',
          requests: 20,
          unit: 'Second',
          clientSelectors: [{ sourceCIDR: { type: 'Distinct', value: '0.0.0.0/0' } }],
        },
      ],
    });
    expect(validateRateLimitPolicy(p)).toEqual([]);
  });

  it('names the field and the rule of every problem', () => {
    const p = rateLimitPolicy({
      targetRefs: [
        { kind: 'Service' as never, name: 'x' },
        { group: 'example.com' as never, name: 'api' },
      ],
      limits: [
        { name: 'a', requests: 0, unit: 'Week' as never },
        { name: 'a', requests: 1.5, unit: 'Second', clientSelectors: [{}] },
        {
          name: 'b',
          requests: 1,
          unit: 'Second',
          clientSelectors: [
            {
              headers: [{ name: 'x y', type: 'Exact' }],
              sourceCIDR: { type: 'Distinct', value: '10.0.0.0/40' },
            },
          ],
        },
      ],
    });
    expect(validateRateLimitPolicy(p)).toEqual([
      'spec.targetRefs[0].kind: must be one of Gateway, HTTPRoute, GRPCRoute (got "Service")',
      'spec.targetRefs[1].group: must be gateway.networking.k8s.io (got "example.com")',
      'spec.limits[0].requests: must be an integer from 1 to 1000000000 (got 0)',
      'spec.limits[0].unit: must be one of Second, Minute, Hour, Day (got "Week")',
      'spec.limits[1].name: a is used by an earlier limit (names must be unique)',
      'spec.limits[1].requests: must be an integer from 1 to 1000000000 (got 1.5)',
      'spec.limits[1].clientSelectors[0]: must set headers, sourceCIDR or both',
      'spec.limits[2].clientSelectors[0].headers[0].name: must be an HTTP header name (got "x y")',
      'spec.limits[2].clientSelectors[0].headers[0].value: an Exact header match needs a value',
      'spec.limits[2].clientSelectors[0].sourceCIDR.value: must be a CIDR such as 10.0.0.0/8 or 2001:db8::/32 (got "10.0.0.0/40")',
    ]);
  });

  it('rejects a missing spec, empty lists and duplicate targets', () => {
    expect(validateRateLimitPolicy({ metadata: { name: 'x' } })).toEqual([
      'spec: must be an object with targetRefs and limits',
    ]);
    const p = rateLimitPolicy({ targetRefs: [{ name: 'api' }, { name: 'api' }], limits: [] });
    expect(validateRateLimitPolicy(p)).toEqual([
      'spec.targetRefs[1]: duplicates an earlier target (targetRefs must be unique)',
      'spec.limits: must list 1 to 16 limits',
    ]);
  });
});
