// The policy engine: every loaded bundle (the built-in one and the platform team's), the data document
// they read, and the enforcement actions. Transport-agnostic: the webhook hands it AdmissionRequests, the
// proxy hands it requests for data-path rules, `tenantgate check` hands it manifests.
//
//   const engine = await PolicyEngine.create({ enforcement: { default: 'deny', policies: { 'route-count': 'warn' } } });
//   engine.setData(inventory);                      // no recompilation: the wasm gets a new data document
//   const { decisions, denied } = engine.evaluateAdmission(request);
//   const verdict = engine.evaluateAccess('allow-cidrs', input);
//   await engine.setBundle('team-rules', bytes);    // validated first; on error the previous one stays
//
// Evaluation is synchronous (WebAssembly), a few hundred microseconds per review.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineError } from '../lib/errors.ts';
import { componentLogger, type Logger } from '../lib/logger.ts';
import {
  ADMISSION_ENTRYPOINT,
  BundleError,
  isRecord,
  loadBundle,
  resultOf,
  wasmError,
  type LoadedBundle,
} from './bundle.ts';
import { actionFor, BUILTIN_BUNDLE, type EnforcementConfig } from './config.ts';
import { bundleLoads, evaluationErrors, evaluationSeconds } from './metrics.ts';
import {
  ACCESS_READ_FIELDS,
  emptyInventory,
  type AccessDecision,
  type AccessInput,
  type AccessReadField,
  type AccessReads,
  type AccessRule,
  type AdmissionEvaluation,
  type AdmissionRequest,
  type Decision,
  type Inventory,
} from './types.ts';

export const BuiltinBundleMissingError = defineError(
  'TG_POLICY_BUILTIN_MISSING',
  'the built-in policy bundle is not at %s — run `make policies` (or set TENANTGATE_POLICY_BUNDLE)',
);
export const AccessRuleAnswerError = defineError(
  'TG_POLICY_RULE_ANSWER',
  '%s answered %s, not {allow, status, reason}: make the rule return an object with a boolean allow',
);
export const UnknownAccessRuleError = defineError(
  'TG_POLICY_UNKNOWN_RULE',
  "no loaded policy bundle provides data-path rule '%s'",
);

/** The policy name of a violation that comes from a bundle failing to evaluate (fails closed). */
export const BUNDLE_ERROR_POLICY = 'policy-bundle-error';

export interface PolicyEngineOptions {
  /** the built-in bundle's bytes; default: read from builtinBundlePath() */
  builtinBundle?: Uint8Array;
  enforcement?: Partial<EnforcementConfig>;
  logger?: Logger;
}

/** Where `make policies` puts the built-in bundle, seen from this module in source or compiled form. */
export function builtinBundlePath(): string {
  const fromEnv = process.env.TENANTGATE_POLICY_BUNDLE;
  if (fromEnv) return fromEnv;
  const candidates = [
    new URL('./bundle.tar.gz', import.meta.url), // dist/policies/engine.js beside dist/policies/bundle.tar.gz
    new URL('../dist/policies/bundle.tar.gz', import.meta.url), // policies/engine.ts run unbuilt
  ].map((u) => fileURLToPath(u));
  return candidates.find((p) => existsSync(p)) ?? candidates[candidates.length - 1]!;
}

export class PolicyEngine {
  readonly #log: Logger;
  /** insertion order: the built-in bundle first, then custom ones in the order they were added */
  readonly #bundles = new Map<string, LoadedBundle>();
  #enforcement: EnforcementConfig;
  #inventory: Inventory = emptyInventory();
  #rules = new Map<string, AccessRule>();
  #generation = 0;

  private constructor(options: PolicyEngineOptions) {
    this.#log = options.logger ?? componentLogger('policy-engine');
    this.#enforcement = {
      default: options.enforcement?.default ?? 'deny',
      policies: { ...options.enforcement?.policies },
    };
  }

  static async create(options: PolicyEngineOptions = {}): Promise<PolicyEngine> {
    const engine = new PolicyEngine(options);
    let bytes = options.builtinBundle;
    if (!bytes) {
      const path = builtinBundlePath();
      if (!existsSync(path)) throw new BuiltinBundleMissingError([path]);
      bytes = readFileSync(path);
    }
    await engine.setBundle(BUILTIN_BUNDLE, bytes);
    return engine;
  }

  /** Replaces the inventory every bundle reads as data.inventory; takes effect for the next evaluation. */
  setData(inventory: Inventory): void {
    this.#inventory = inventory;
    this.#pushData([...this.#bundles.values()]);
    this.#generation++;
  }

  /**
   * Changes whenever what a rule may answer can have changed: a bundle loaded, replaced or removed, or
   * new data. Whoever keeps decisions (the proxy's decision caches) drops them when it moves.
   */
  get generation(): number {
    return this.#generation;
  }

  get inventory(): Inventory {
    return this.#inventory;
  }

  setEnforcement(config: EnforcementConfig): void {
    this.#enforcement = { default: config.default, policies: { ...config.policies } };
  }

  get enforcement(): EnforcementConfig {
    return this.#enforcement;
  }

  /**
   * Loads (or replaces) a bundle. The new bundle is validated, including its rule names against the other
   * bundles, before it replaces anything: on error the bundle that was serving under this name stays.
   */
  async setBundle(name: string, bytes: Uint8Array): Promise<LoadedBundle> {
    let bundle: LoadedBundle;
    try {
      bundle = await loadBundle(name, bytes);
      this.#checkRuleNames(bundle);
    } catch (err) {
      bundleLoads.inc({ bundle: name, result: 'refused' });
      throw err;
    }
    this.#bundles.set(name, bundle);
    this.#rebuildRules();
    this.#pushData([...this.#bundles.values()]);
    this.#generation++;
    bundleLoads.inc({ bundle: name, result: 'loaded' });
    this.#log.info('policy bundle loaded', {
      bundle: name,
      revision: bundle.revision,
      admission: bundle.hasAdmission,
      rules: bundle.rules.map((r) => r.name),
    });
    return bundle;
  }

  removeBundle(name: string): boolean {
    if (name === BUILTIN_BUNDLE || !this.#bundles.delete(name)) return false;
    this.#rebuildRules();
    this.#pushData([...this.#bundles.values()]);
    this.#generation++;
    this.#log.info('policy bundle removed', { bundle: name });
    return true;
  }

  bundles(): { name: string; revision: string; admission: boolean; rules: string[] }[] {
    return [...this.#bundles.values()].map((b) => ({
      name: b.name,
      revision: b.revision,
      admission: b.hasAdmission,
      rules: b.rules.map((r) => r.name),
    }));
  }

  accessRules(): AccessRule[] {
    return [...this.#rules.values()];
  }

  /**
   * Every policy of every bundle against one admission request, with the configured actions.
   * `inputJson`, when given, is the request already serialised as the JSON text of a document whose
   * `request` it is (an AdmissionReview body as received): it is handed to the wasm as it is, saving a
   * serialisation per review.
   */
  evaluateAdmission(request: AdmissionRequest, inputJson?: ArrayBuffer): AdmissionEvaluation {
    const started = performance.now();
    // serialised once for every bundle (opa-wasm takes an ArrayBuffer as ready JSON)
    const input = inputJson ?? toJsonBuffer({ request });
    const decisions: Decision[] = [];
    for (const bundle of this.#bundles.values()) {
      if (!bundle.hasAdmission) continue;
      for (const v of this.#violationsOf(bundle, input)) {
        decisions.push({ ...v, action: actionFor(this.#enforcement, v.policy) });
      }
    }
    decisions.sort((a, b) => a.policy.localeCompare(b.policy) || a.message.localeCompare(b.message));
    const seconds = (performance.now() - started) / 1000;
    evaluationSeconds.observe({ kind: 'admission' }, seconds);
    return { decisions, denied: decisions.some((d) => d.action === 'deny'), seconds };
  }

  /**
   * One data-path rule against one request. A rule that fails to evaluate answers a refusal (fail closed)
   * with status 500: the request is not served, and the reason says why.
   */
  evaluateAccess(rule: string, input: AccessInput): AccessDecision {
    const found = this.#rules.get(rule);
    if (!found) throw new UnknownAccessRuleError([rule]);
    const bundle = this.#bundles.get(found.bundle)!;
    const started = performance.now();
    try {
      const result = resultOf(bundle.policy, input, found.entrypoint);
      if (!isRecord(result) || typeof result.allow !== 'boolean') {
        throw new AccessRuleAnswerError([found.entrypoint, JSON.stringify(result)]);
      }
      return {
        allow: result.allow,
        status: typeof result.status === 'number' ? result.status : result.allow ? 200 : 403,
        reason: typeof result.reason === 'string' ? result.reason : '',
      };
    } catch (err) {
      evaluationErrors.inc({ bundle: bundle.name });
      this.#log.error('data-path rule failed to evaluate', {
        rule,
        bundle: bundle.name,
        err: wasmError(err),
      });
      return { allow: false, status: 500, reason: `access rule '${rule}' failed to evaluate` };
    } finally {
      evaluationSeconds.observe({ kind: 'access' }, (performance.now() - started) / 1000);
    }
  }

  /**
   * What `rule` declares it reads of a request with these parameters (its catalog entry's `reads`
   * entrypoint), or undefined when it declares nothing or the declaration is unusable: then every request
   * must be evaluated. Asked once per policy and engine generation, never per request.
   */
  accessReads(rule: string, parameters: Record<string, unknown>): AccessReads | undefined {
    const found = this.#rules.get(rule);
    if (!found?.reads) return undefined;
    let result: unknown;
    try {
      result = resultOf(this.#bundles.get(found.bundle)!.policy, { parameters }, found.reads);
    } catch (err) {
      this.#log.warn("a rule's reads declaration failed to evaluate; its decisions are not cached", {
        rule,
        bundle: found.bundle,
        err: wasmError(err),
      });
      return undefined;
    }
    const reads = parseReads(result);
    if (!reads) {
      this.#log.warn("a rule's reads declaration is not {fields, headers}; its decisions are not cached", {
        rule,
        bundle: found.bundle,
        entrypoint: found.reads,
        answer: JSON.stringify(result)?.slice(0, 200),
      });
    }
    return reads;
  }

  #violationsOf(bundle: LoadedBundle, input: ArrayBuffer): Omit<Decision, 'action'>[] {
    let result: unknown;
    try {
      result = resultOf(bundle.policy, input, ADMISSION_ENTRYPOINT);
    } catch (err) {
      evaluationErrors.inc({ bundle: bundle.name });
      this.#log.error('admission policies failed to evaluate', { bundle: bundle.name, err: wasmError(err) });
      return [
        {
          policy: BUNDLE_ERROR_POLICY,
          bundle: bundle.name,
          message: bundleFailure(bundle.name, wasmError(err)),
        },
      ];
    }
    if (result === undefined) return []; // no violation rule fired at all
    if (!Array.isArray(result)) {
      return [
        {
          policy: BUNDLE_ERROR_POLICY,
          bundle: bundle.name,
          message: bundleFailure(bundle.name, 'the result is not a set'),
        },
      ];
    }
    return result.map((v: unknown) =>
      isRecord(v) && typeof v.policy === 'string' && typeof v.msg === 'string'
        ? { policy: v.policy, message: v.msg, bundle: bundle.name }
        : {
            policy: BUNDLE_ERROR_POLICY,
            bundle: bundle.name,
            message: bundleFailure(bundle.name, `a violation is not {policy, msg}: ${JSON.stringify(v)}`),
          },
    );
  }

  #checkRuleNames(bundle: LoadedBundle): void {
    for (const rule of bundle.rules) {
      const existing = this.#rules.get(rule.name);
      if (existing && existing.bundle !== bundle.name) {
        throw new BundleError([
          bundle.name,
          `data-path rule '${rule.name}' is already provided by bundle '${existing.bundle}'`,
        ]);
      }
    }
  }

  #rebuildRules(): void {
    this.#rules = new Map(
      [...this.#bundles.values()].flatMap((b) => b.rules.map((r) => [r.name, r] as const)),
    );
  }

  /** data.inventory and data.access_rules (what admission checks AccessPolicy parameters against). */
  #pushData(bundles: LoadedBundle[]): void {
    const accessRules = Object.fromEntries(
      [...this.#rules.values()].map((r) => [
        r.name,
        { description: r.description, schema: r.schema, bundle: r.bundle },
      ]),
    );
    const data = toJsonBuffer({ inventory: this.#inventory, access_rules: accessRules });
    for (const bundle of bundles) bundle.policy.setData(data);
  }
}

const READ_FIELDS: ReadonlySet<string> = new Set(ACCESS_READ_FIELDS);

/** {fields: [known field names], headers: [header names]}, both optional lists; anything else: undefined. */
function parseReads(value: unknown): AccessReads | undefined {
  if (!isRecord(value)) return undefined;
  const fields = value.fields ?? [];
  const headers = value.headers ?? [];
  if (!Array.isArray(fields) || !fields.every((f) => typeof f === 'string' && READ_FIELDS.has(f)))
    return undefined;
  if (!Array.isArray(headers) || !headers.every((h) => typeof h === 'string' && h !== '')) return undefined;
  return {
    fields: [...new Set(fields as AccessReadField[])],
    headers: [...new Set((headers as string[]).map((h) => h.toLowerCase()))],
  };
}

function bundleFailure(bundle: string, why: string): string {
  return `policy bundle '${bundle}' failed to evaluate (${why}), so the change cannot be checked — retry; if it persists, the platform team must fix or remove the bundle`;
}

function toJsonBuffer(value: unknown): ArrayBuffer {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}
