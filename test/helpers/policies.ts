// For tests: compile Rego to a wasm bundle with bin/opa, as `make policies` does, and find the built-in
// bundle. Tests that need these fail with the command to run rather than skipping.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinBundlePath } from '../../policies/engine.ts';
import type { Inventory } from '../../policies/types.ts';

export const repoRoot = join(import.meta.dirname, '..', '..');
export const opaBinary = join(repoRoot, 'bin', 'opa');

export function builtinBundleBytes(): Buffer {
  const path = builtinBundlePath();
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`make policies\` first`);
  return readFileSync(path);
}

/** Compiles Rego modules (file name -> source) to a bundle archive with the given entrypoints. */
export function buildBundle(
  modules: Record<string, string>,
  entrypoints: string[],
  options: { capabilities?: boolean } = {},
): Buffer {
  if (!existsSync(opaBinary)) throw new Error(`${opaBinary} is missing: run \`make tools\` first`);
  const dir = mkdtempSync(join(tmpdir(), 'tg-bundle-'));
  for (const [file, source] of Object.entries(modules)) writeFileSync(join(dir, file), source);
  const out = join(dir, 'bundle.tar.gz');
  const caps = join(repoRoot, 'dist', 'policies', 'capabilities.json');
  execFileSync(
    opaBinary,
    [
      'build',
      '-t',
      'wasm',
      ...(options.capabilities !== false && existsSync(caps) ? ['--capabilities', caps] : []),
      ...entrypoints.flatMap((e) => ['-e', e]),
      '-o',
      out,
      ...Object.keys(modules).map((f) => join(dir, f)),
    ],
    { stdio: 'pipe' },
  );
  return readFileSync(out);
}

/** The inventory fixture of the Rego tests (policies/testdata/fixtures_test.rego), evaluated by opa. */
export function regoFixture(ref: string): unknown {
  const out = execFileSync(opaBinary, ['eval', '--format', 'raw', '-d', join(repoRoot, 'policies'), ref], {
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

/** The Rego tests' inventory (policies/testdata), for tests that evaluate the built-in bundle. */
export const inventory = (): Inventory => regoFixture('data.tenantgate.testdata.inventory') as Inventory;

/** An HTTPRoute spec that every built-in policy allows in namespace acme-web under that inventory. */
export const goodRouteSpec = {
  parentRefs: [{ name: 'shared', namespace: 'infra', sectionName: 'http' }],
  hostnames: ['shop.acme.example.com'],
  rules: [{ backendRefs: [{ name: 'shop', port: 80 }] }],
};
