// Builtins that the opa-wasm SDK does not implement and our Rego uses, provided from Node. Their names
// also go into the capabilities file the Rego is compiled against (capabilities.ts), so a bundle that
// uses any other unimplemented builtin fails at `opa build`, not at evaluation.
import { createHash } from 'node:crypto';
import { findN, Re2Cache } from './re2-cache.ts';

/** Compiled patterns shared by every bundle of the process (a pattern means the same in all of them). */
export const re2Patterns = new Re2Cache();

export const customBuiltins: Record<string, (...args: unknown[]) => unknown> = {
  // api-key compares hashes, so AccessPolicies never carry the keys themselves
  'crypto.sha256': (x: unknown) => createHash('sha256').update(String(x)).digest('hex'),
  // The cheap way to match a regular expression on the data path: opa-wasm's native regex.match
  // recompiles its pattern on every evaluation, while this one keeps compiled patterns (re2-cache.ts).
  // `count(regex.find_n(pattern, value, 1)) > 0` is regex.match(pattern, value).
  'regex.find_n': (pattern: unknown, value: unknown, n: unknown) =>
    findN(re2Patterns, String(pattern), String(value), Number(n)),
};
