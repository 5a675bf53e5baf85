// Writes the capabilities file that `make policies` compiles the Rego against: the builtins the opa-wasm
// SDK (and our customBuiltins) can evaluate, with the language features of the opa binary.
// Usage: node policies/capabilities.ts OPA_BINARY > dist/policies/capabilities.json
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { defineError } from '../lib/errors.ts';
import { customBuiltins } from './builtins.ts';

export const OpaBuiltinsMissingError = defineError(
  'TG_POLICY_OPA_BUILTINS',
  '%s does not declare the builtins %s: the policies need an opa that has them; run `make tools` to build the one versions.mk pins',
);

interface Capabilities {
  builtins: { name: string }[];
  [key: string]: unknown;
}

export function wasmCapabilities(opa: string): Capabilities {
  const current = JSON.parse(
    execFileSync(opa, ['capabilities', '--current'], { encoding: 'utf8' }),
  ) as Capabilities;
  const require = createRequire(import.meta.url);
  // the SDK does not export its capabilities file; it sits at the package root, beside src/
  const sdkPath = join(dirname(require.resolve('@open-policy-agent/opa-wasm')), '..', 'capabilities.json');
  const sdk = JSON.parse(readFileSync(sdkPath, 'utf8')) as Capabilities;
  const extra = current.builtins.filter((b) => b.name in customBuiltins);
  const missing = Object.keys(customBuiltins).filter((name) => !extra.some((b) => b.name === name));
  if (missing.length) throw new OpaBuiltinsMissingError([opa, missing.join(', ')]);
  return { ...current, builtins: [...sdk.builtins, ...extra], wasm_abi_versions: sdk.wasm_abi_versions };
}

if (import.meta.main) {
  const opa = process.argv[2];
  if (!opa) {
    process.stderr.write('usage: node policies/capabilities.ts OPA_BINARY\n');
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(wasmCapabilities(opa), null, 1) + '\n');
}
