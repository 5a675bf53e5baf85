// Builtins that the opa-wasm SDK does not implement and our Rego uses, provided from Node. Their names
// also go into the capabilities file the Rego is compiled against (capabilities.ts), so a bundle that
// uses any other unimplemented builtin fails at `opa build`, not at evaluation.
import { createHash } from 'node:crypto';

export const customBuiltins: Record<string, (...args: unknown[]) => unknown> = {
  // api-key compares hashes, so AccessPolicies never carry the keys themselves
  'crypto.sha256': (x: unknown) => createHash('sha256').update(String(x)).digest('hex'),
};
