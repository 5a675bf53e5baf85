import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import {
  watchBundleConfigMap,
  watchBundleFile,
  type BundleRefusal,
  type ConfigMapCache,
  type ConfigMapLike,
} from './bundle-sources.ts';
import { PolicyEngine } from './engine.ts';
import { buildBundle, builtinBundleBytes } from '../test/helpers/policies.ts';

function ruleBundle(reason: string): Buffer {
  return buildBundle(
    {
      'r.rego': `package tenantgate.access
catalog := {"always": {"entrypoint": "tenantgate/access/always", "description": "d", "schema": {"type": "object"}}}
always := {"allow": true, "status": 200, "reason": "${reason}"}`,
    },
    ['tenantgate/access/catalog', 'tenantgate/access/always'],
  );
}

const input = {
  method: 'GET',
  path: '/',
  host: 'h',
  headers: {},
  source_ip: '127.0.0.1',
  route: { kind: 'HTTPRoute', namespace: 'n', name: 'r' },
  parameters: {},
};

describe('custom bundle sources', () => {
  let v1: Buffer;
  let v2: Buffer;
  let engine: PolicyEngine;
  beforeAll(async () => {
    v1 = ruleBundle('v1');
    v2 = ruleBundle('v2');
    engine = await PolicyEngine.create({ builtinBundle: builtinBundleBytes() });
  });

  it('hot-reloads a bundle file and keeps the last good one when the file turns bad', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-bundles-'));
    const file = join(dir, 'team.tar.gz');
    // written the way config management does it: a new file renamed over the old one
    const put = (bytes: Buffer) => {
      writeFileSync(`${file}.new`, bytes);
      renameSync(`${file}.new`, file);
    };
    put(v1);
    const refused: BundleRefusal[] = [];
    const watcher = watchBundleFile(
      { name: 'team', file },
      { engine, pollIntervalMs: 50, onRefused: (r) => refused.push(r) },
    );
    try {
      await watcher.ready;
      expect(engine.evaluateAccess('always', input).reason).toBe('v1');

      put(Buffer.from('garbage'));
      await vi.waitFor(() => expect(refused).toHaveLength(1), { timeout: 5000 });
      expect(refused[0]).toMatchObject({ bundle: 'team', source: `file ${file}` });
      expect(refused[0]!.reason).toMatch(/refused: neither a bundle archive/);
      expect(engine.evaluateAccess('always', input).reason).toBe('v1');

      put(v2);
      await vi.waitFor(() => expect(engine.evaluateAccess('always', input).reason).toBe('v2'), {
        timeout: 5000,
      });
    } finally {
      watcher.stop();
      engine.removeBundle('team');
    }
  });

  it('refuses a missing file without failing the start', async () => {
    const refused: BundleRefusal[] = [];
    const watcher = watchBundleFile(
      { name: 'gone', file: '/nonexistent/bundle.tar.gz' },
      { engine, onRefused: (r) => refused.push(r) },
    );
    await watcher.ready;
    watcher.stop();
    expect(refused[0]!.reason).toContain('cannot read /nonexistent/bundle.tar.gz');
  });

  it('follows a ConfigMap through a cache, refusing a broken version', async () => {
    type Handlers = Parameters<ConfigMapCache['addHandlers']>[0];
    let handlers: Handlers = {};
    const cm = (bytes: Buffer): ConfigMapLike => ({
      metadata: { namespace: 'tenantgate-system', name: 'team' },
      binaryData: { 'bundle.tar.gz': bytes.toString('base64') },
    });
    let current = cm(v1);
    const cache: ConfigMapCache = {
      get: () => current,
      addHandlers: (h) => {
        handlers = h;
        return () => (handlers = {});
      },
    };
    const refused: BundleRefusal[] = [];
    const spec = {
      name: 'cm-team',
      configMap: { namespace: 'tenantgate-system', name: 'team', key: 'bundle.tar.gz' },
    };
    const watcher = watchBundleConfigMap(spec, cache, { engine, onRefused: (r) => refused.push(r) });
    try {
      await watcher.ready;
      expect(engine.evaluateAccess('always', input).reason).toBe('v1');

      const broken = { ...current, binaryData: { other: 'eA==' } };
      handlers.onUpdate?.(broken, current);
      current = broken;
      await vi.waitFor(() => expect(refused).toHaveLength(1));
      expect(refused[0]!.reason).toContain("has no key 'bundle.tar.gz' (it has: other)");
      expect(engine.evaluateAccess('always', input).reason).toBe('v1');

      const next = cm(v2);
      handlers.onUpdate?.(next, current);
      await vi.waitFor(() => expect(engine.evaluateAccess('always', input).reason).toBe('v2'));
      // other ConfigMaps are none of its business
      handlers.onUpdate?.({ metadata: { namespace: 'x', name: 'team' }, binaryData: {} }, next);
      expect(refused).toHaveLength(1);
    } finally {
      watcher.stop();
      engine.removeBundle('cm-team');
    }
  });
});
