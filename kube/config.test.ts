import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKubeConfig, operatorNamespace } from './config.ts';

const yaml = (server: string) => `apiVersion: v1
kind: Config
clusters:
- name: one
  cluster: {server: ${server}}
- name: two
  cluster: {server: https://two.example:6443}
users:
- name: u
  user: {token: abc}
contexts:
- name: one
  context: {cluster: one, user: u}
- name: two
  context: {cluster: two, user: u}
current-context: one
`;

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kc-'));
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, text);
  return path;
}

describe('loadKubeConfig', () => {
  it('loads an explicit file, and a named context in it', () => {
    const path = file(yaml('https://one.example:6443'));
    expect(loadKubeConfig({ path }).getCurrentCluster()?.server).toBe('https://one.example:6443');
    expect(loadKubeConfig({ path, context: 'two' }).getCurrentCluster()?.server).toBe(
      'https://two.example:6443',
    );
  });

  it('falls back to $KUBECONFIG', () => {
    const path = file(yaml('https://env.example:6443'));
    expect(loadKubeConfig({ env: { KUBECONFIG: path } }).getCurrentCluster()?.server).toBe(
      'https://env.example:6443',
    );
  });

  it('says which file and context are wrong', () => {
    const path = file(yaml('https://one.example:6443'));
    expect(() => loadKubeConfig({ path, context: 'nope' })).toThrow(
      `cannot load a kubeconfig: kubeconfig file ${path} has no context 'nope'`,
    );
    expect(() => loadKubeConfig({ path: '/does/not/exist' })).toThrow(/kubeconfig file \/does\/not\/exist/);
  });
});

describe('operatorNamespace', () => {
  it('prefers TENANTGATE_NAMESPACE, then the Pod namespace, then tenantgate-system', () => {
    expect(operatorNamespace({ TENANTGATE_NAMESPACE: 'a', POD_NAMESPACE: 'b' })).toBe('a');
    expect(operatorNamespace({ POD_NAMESPACE: 'b' })).toBe('b');
    expect(operatorNamespace({})).toBe('tenantgate-system');
  });
});
