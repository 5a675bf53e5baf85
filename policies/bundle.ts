// A policy bundle: one WebAssembly module compiled by `opa build -t wasm`, loaded with the opa-wasm SDK.
// A bundle provides admission policies (entrypoint tenantgate/admission/violations), data-path rules
// (tenantgate/access/catalog naming one entrypoint per rule), or both. Loading checks all of that and
// evaluates each entrypoint once, so a broken bundle is refused before it can serve.
import { createHash } from 'node:crypto';
import { loadPolicy, type LoadedPolicy } from '@open-policy-agent/opa-wasm';
import { defineError, errorMessage } from '../lib/errors.ts';
import { customBuiltins } from './builtins.ts';
import { readTar, isGzip } from './tar.ts';
import type { AccessRule } from './types.ts';

export const ADMISSION_ENTRYPOINT = 'tenantgate/admission/violations';
export const CATALOG_ENTRYPOINT = 'tenantgate/access/catalog';

export const BundleError = defineError('TG_POLICY_BUNDLE', "policy bundle '%s' refused: %s");

export interface LoadedBundle {
  name: string;
  policy: LoadedPolicy;
  /** entrypoint name -> id */
  entrypoints: Record<string, number>;
  hasAdmission: boolean;
  rules: AccessRule[];
  /** a short digest of the module, for logs: which bundle is serving */
  revision: string;
}

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** The policy.wasm of a bundle archive (tar.gz from `opa build`), or the bytes themselves if they are wasm. */
export function extractWasm(name: string, bytes: Uint8Array): Buffer {
  if (WASM_MAGIC.every((b, i) => bytes[i] === b)) return Buffer.from(bytes);
  if (!isGzip(bytes))
    throw new BundleError([name, 'neither a bundle archive (tar.gz) nor a WebAssembly module']);
  let files: Map<string, Buffer>;
  try {
    files = readTar(bytes);
  } catch (err) {
    throw new BundleError([name, errorMessage(err)], { cause: err });
  }
  const wasm = files.get('policy.wasm') ?? [...files.entries()].find(([path]) => path.endsWith('.wasm'))?.[1];
  if (!wasm) {
    throw new BundleError([
      name,
      `the archive holds no policy.wasm (files: ${[...files.keys()].join(', ') || 'none'}); build it with opa build -t wasm`,
    ]);
  }
  return wasm;
}

export async function loadBundle(name: string, bytes: Uint8Array): Promise<LoadedBundle> {
  const wasm = extractWasm(name, bytes);
  let policy: LoadedPolicy;
  try {
    policy = await loadPolicy(wasm, undefined, customBuiltins);
  } catch (err) {
    throw new BundleError([name, `the WebAssembly module does not load: ${errorMessage(err)}`], {
      cause: err,
    });
  }
  const entrypoints = policy.entrypoints as Record<string, number>;
  const hasAdmission = ADMISSION_ENTRYPOINT in entrypoints;
  const hasCatalog = CATALOG_ENTRYPOINT in entrypoints;
  if (!hasAdmission && !hasCatalog) {
    throw new BundleError([
      name,
      `it has neither entrypoint ${ADMISSION_ENTRYPOINT} nor ${CATALOG_ENTRYPOINT} (it has: ${Object.keys(entrypoints).join(', ') || 'none'})`,
    ]);
  }
  const rules = hasCatalog ? readCatalog(name, policy, entrypoints) : [];
  if (hasAdmission) smokeTest(name, policy);
  const revision = createHash('sha256').update(wasm).digest('hex').slice(0, 12);
  return { name, policy, entrypoints, hasAdmission, rules, revision };
}

/** The single result of an entrypoint (opa-wasm returns a result set). */
export function resultOf(policy: LoadedPolicy, input: unknown, entrypoint: string): unknown {
  const rs = policy.evaluate(input, entrypoint) as { result?: unknown }[] | undefined;
  return rs?.[0]?.result;
}

function readCatalog(name: string, policy: LoadedPolicy, entrypoints: Record<string, number>): AccessRule[] {
  let catalog: unknown;
  try {
    catalog = resultOf(policy, {}, CATALOG_ENTRYPOINT);
  } catch (err) {
    throw new BundleError([name, `${CATALOG_ENTRYPOINT} fails to evaluate: ${wasmError(err)}`], {
      cause: err,
    });
  }
  if (!isRecord(catalog)) throw new BundleError([name, `${CATALOG_ENTRYPOINT} is not an object of rules`]);
  return Object.entries(catalog).map(([rule, entry]) => {
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(rule)) {
      throw new BundleError([
        name,
        `data-path rule name '${rule}' is not a DNS label (AccessPolicy spec.rule must match it)`,
      ]);
    }
    if (!isRecord(entry) || typeof entry.entrypoint !== 'string' || !isRecord(entry.schema)) {
      throw new BundleError([
        name,
        `catalog entry '${rule}' needs an entrypoint (string) and a schema (object)`,
      ]);
    }
    if (entry.reads !== undefined && (typeof entry.reads !== 'string' || !(entry.reads in entrypoints))) {
      throw new BundleError([
        name,
        `catalog entry '${rule}' names reads ${JSON.stringify(entry.reads)}, which is not an entrypoint of the module (add -e for it, or leave reads out)`,
      ]);
    }
    if (!(entry.entrypoint in entrypoints)) {
      throw new BundleError([
        name,
        `rule '${rule}' names entrypoint ${entry.entrypoint}, which the module was not built with (add -e ${entry.entrypoint})`,
      ]);
    }
    return {
      name: rule,
      bundle: name,
      entrypoint: entry.entrypoint,
      ...(typeof entry.reads === 'string' ? { reads: entry.reads } : {}),
      description: typeof entry.description === 'string' ? entry.description : '',
      schema: entry.schema,
    };
  });
}

/** Evaluates the admission entrypoint on an empty review: it must answer a set of {policy, msg}. */
function smokeTest(name: string, policy: LoadedPolicy): void {
  let result: unknown;
  try {
    result = resultOf(
      policy,
      { request: { uid: 'smoke-test', kind: {}, operation: 'CREATE', userInfo: {} } },
      ADMISSION_ENTRYPOINT,
    );
  } catch (err) {
    throw new BundleError([name, `${ADMISSION_ENTRYPOINT} fails to evaluate: ${wasmError(err)}`], {
      cause: err,
    });
  }
  if (!Array.isArray(result))
    throw new BundleError([name, `${ADMISSION_ENTRYPOINT} must be a set of {"policy", "msg"} objects`]);
}

/** opa-wasm throws strings and errors alike. */
export function wasmError(err: unknown): string {
  if (typeof err === 'string') return err;
  if (err instanceof Error) return err.message;
  if (isRecord(err) && typeof err.message === 'string') return err.message;
  return errorMessage(err);
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
