import { describe, expect, it } from 'vitest';
import { indexSecrets, matchApiKey, resolveApiKeys, sha256 } from './api-key.ts';
import { secret } from '../../test/helpers/access.ts';

const secrets = indexSecrets([
  secret('team', 'api-keys', { alice: 'key-alice\n', bob: '  key-bob ' }),
  secret('team', 'empty', { blank: '\n' }),
  secret('other', 'their-keys', { carol: 'key-carol' }),
]);
const hex = (s: string) => sha256(s).toString('hex');

describe('resolveApiKeys', () => {
  it('reads every entry of a Secret in the policy namespace as one key, trimmed', () => {
    const { config, problems } = resolveApiKeys({ secretRef: { name: 'api-keys' } }, 'team', secrets);
    expect(problems).toEqual([]);
    expect(config!.header).toBe('x-api-key');
    expect(config!.secret).toBe('team/api-keys');
    expect(config!.digests.map((d) => d.toString('hex')).sort()).toEqual(
      [hex('key-alice'), hex('key-bob')].sort(),
    );
  });

  it('reads one entry when secretRef.key is set, and lower-cases a custom header', () => {
    const { config } = resolveApiKeys(
      { secretRef: { name: 'api-keys', key: 'bob' }, header: 'X-Team-Key' },
      'team',
      secrets,
    );
    expect(config!.header).toBe('x-team-key');
    expect(config!.digests.map((d) => d.toString('hex'))).toEqual([hex('key-bob')]);
  });

  it("never reads another namespace's Secret: naming its namespace is refused", () => {
    const { config, problems } = resolveApiKeys(
      { secretRef: { name: 'their-keys', namespace: 'other' } },
      'team',
      secrets,
    );
    expect(config).toBeUndefined();
    expect(problems).toEqual([
      `spec.parameters.secretRef.namespace: must be the policy's own namespace team (got "other"); an AccessPolicy cannot read another namespace's Secrets`,
    ]);
  });

  it("never reads another namespace's Secret: a name that exists only elsewhere is not found", () => {
    const { config, problems } = resolveApiKeys({ secretRef: { name: 'their-keys' } }, 'team', secrets);
    expect(config).toBeUndefined();
    expect(problems).toEqual(['spec.parameters.secretRef: Secret team/their-keys not found']);
  });

  it('names what is wrong: missing key, empty Secret, bad digest, nothing to accept', () => {
    expect(resolveApiKeys({ secretRef: { name: 'api-keys', key: 'zed' } }, 'team', secrets).problems).toEqual(
      ['spec.parameters.secretRef.key: Secret team/api-keys has no key zed'],
    );
    expect(resolveApiKeys({ secretRef: { name: 'empty' } }, 'team', secrets).problems).toEqual([
      'spec.parameters.secretRef: Secret team/empty holds no API keys',
    ]);
    expect(resolveApiKeys({ sha256: ['nothex'] }, 'team', secrets).problems).toEqual([
      'spec.parameters.sha256[0]: must be 64 lower-case hex digits (a SHA-256 digest)',
    ]);
    expect(resolveApiKeys({}, 'team', secrets).problems).toEqual([
      'spec.parameters: rule api-key needs secretRef (a Secret in the same namespace) or sha256',
    ]);
    expect(resolveApiKeys({ sha256: [hex('k')], header: 'bad header' }, 'team', secrets).problems).toEqual([
      'spec.parameters.header: must be an HTTP header name (got "bad header")',
    ]);
  });

  it('merges inline digests with the Secret, without duplicates', () => {
    const { config } = resolveApiKeys(
      { secretRef: { name: 'api-keys' }, sha256: [hex('key-alice'), hex('inline')] },
      'team',
      secrets,
    );
    expect(config!.digests).toHaveLength(3);
  });
});

describe('matchApiKey', () => {
  const digests = [sha256('one'), sha256('two'), sha256('three')];

  it('answers the digest of an accepted key, whichever position it has', () => {
    expect(matchApiKey('one', digests)).toBe(hex('one'));
    expect(matchApiKey('three', digests)).toBe(hex('three'));
  });

  it('answers undefined for a wrong, a prefix-sharing or a missing key', () => {
    expect(matchApiKey('four', digests)).toBeUndefined();
    expect(matchApiKey('on', digests)).toBeUndefined();
    expect(matchApiKey('', digests)).toBeUndefined();
    expect(matchApiKey(undefined, digests)).toBeUndefined();
  });
});
