import { describe, expect, it } from 'vitest';
import { actionFor, parsePolicyConfig, PolicyConfigError } from './config.ts';

describe('policy configuration', () => {
  it('reads enforcement actions and bundle sources', () => {
    const config = parsePolicyConfig(
      `enforcement:
  default: warn
  policies: {route-count: deny, platform-labels: dryrun}
bundles:
  - {name: team, file: /etc/b.tar.gz}
  - {name: shared, configMap: {namespace: tenantgate-system, name: shared}}
`,
      'test.yaml',
    );
    expect(actionFor(config.enforcement, 'route-count')).toBe('deny');
    expect(actionFor(config.enforcement, 'platform-labels')).toBe('dryrun');
    expect(actionFor(config.enforcement, 'route-hostnames')).toBe('warn');
    expect(config.bundles).toEqual([
      { name: 'team', file: '/etc/b.tar.gz' },
      { name: 'shared', configMap: { namespace: 'tenantgate-system', name: 'shared', key: 'bundle.tar.gz' } },
    ]);
  });

  it('defaults to deny with no custom bundles', () => {
    expect(parsePolicyConfig('', 'empty')).toEqual({
      enforcement: { default: 'deny', policies: {} },
      bundles: [],
    });
  });

  it.each([
    [
      'enforcement: {default: block}',
      "enforcement.default: 'block' is not an enforcement action (use deny, warn, dryrun)",
    ],
    [
      'enforcement: {policies: {route-count: off}}',
      "enforcement.policies.route-count: 'off' is not an enforcement action",
    ],
    ['bundles: [{name: builtin, file: x}]', "bundles[0]: the name 'builtin' is taken"],
    ['bundles: [{name: x}]', "bundles[0] ('x') needs file: PATH or configMap"],
    ['[1, 2]', 'must be a mapping'],
    ['a: [', 'not YAML'],
  ])('refuses %s', (text, message) => {
    expect(() => parsePolicyConfig(text, 'c.yaml')).toThrow(PolicyConfigError);
    expect(() => parsePolicyConfig(text, 'c.yaml')).toThrow(message);
  });
});
