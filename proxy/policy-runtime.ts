// The long-lived half of attached policies in one proxy process: one rate-limit store (local, or Redis when
// configured) whose counters survive every reload, and one policy engine for AccessPolicy rules. Per
// snapshot, compile() turns the policy objects into the route-table compiler's hook
// (compileAttachedPolicies), so a policy edit takes effect with the next route table.
//
// The engine (a few MB of WebAssembly) is loaded on the first snapshot that has an AccessPolicy, so a
// proxy without access rules never pays for it. When the engine's set of data-path rules changes (a
// custom bundle loaded, replaced or removed), `onRulesChanged` asks the proxy to recompile, so policies
// naming those rules become valid or invalid without a restart. A bundle that only changes a rule's
// behaviour needs no recompile: requests ask the engine for the rule by name each time, and the policies'
// decision caches empty themselves when the engine's generation moves (access/decision-cache.ts).
import { componentLogger, type Logger } from '../lib/logger.ts';
import { errorMessage } from '../lib/errors.ts';
import { watchBundles, type BundleWatcher, type ConfigMapCache } from '../policies/bundle-sources.ts';
import { defaultPolicyConfig, loadPolicyConfigFile, type PolicyConfig } from '../policies/config.ts';
import { PolicyEngine } from '../policies/engine.ts';
import type { AccessRule } from '../policies/types.ts';
import type { AccessEngine } from './access/engine.ts';
import {
  compileAttachedPolicies,
  type AttachedPolicies,
  type AttachedPolicyInputs,
} from './attached-policies.ts';
import { createLocalStore } from './ratelimit/local-store.ts';
import { createRedisStore } from './ratelimit/redis-store.ts';
import type { RateLimitStore } from './ratelimit/store.ts';
import type { PolicySettings } from './policy-settings.ts';

export interface PolicyRuntimeOptions {
  settings: PolicySettings;
  /** a store to use instead of building one; its owner closes it */
  rateLimitStore?: RateLimitStore;
  /** an engine to share instead of loading one; its owner loads its bundles */
  engine?: PolicyEngine;
  /** the snapshot should be compiled again: the engine's rules changed */
  onRulesChanged: () => void;
  /** ConfigMap-backed bundles read through this cache (cluster mode); asked for only when configured */
  configMaps?: () => Promise<ConfigMapCache>;
  logger?: Logger;
  /** how often to look for rule changes in a shared engine; default 2,000 ms */
  rulePollMs?: number;
}

/**
 * Stands in for the engine until it is needed, and when it cannot be loaded (no built bundle): it provides
 * no rules, so every AccessPolicy is invalid and refuses its requests (500) — fail closed — with a status
 * that says why.
 */
const NO_RULES_ENGINE: AccessEngine = {
  accessRules: () => [],
  bundles: () => [],
  evaluateAdmission: () => ({ decisions: [], denied: false, seconds: 0 }),
  evaluateAccess: () => ({ allow: false, status: 500, reason: 'no policy bundle is loaded' }),
  generation: 0,
  accessReads: () => undefined,
};

export class PolicyRuntime {
  readonly store: RateLimitStore;
  readonly #settings: PolicySettings;
  readonly #options: PolicyRuntimeOptions;
  readonly #ownStore: boolean;
  readonly #log: Logger;
  #engine: PolicyEngine | undefined;
  #loading: Promise<void> | undefined;
  #loadFailed = false;
  #watchers: BundleWatcher[] = [];
  #rules: readonly AccessRule[] = [];
  #poll: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: PolicyRuntimeOptions) {
    this.#options = options;
    this.#settings = options.settings;
    this.#log = options.logger ?? componentLogger('proxy.policies');
    this.#ownStore = !options.rateLimitStore;
    this.store = options.rateLimitStore ?? this.#buildStore();
    if (options.engine) this.#adopt(options.engine);
  }

  /** The engine, once loaded. */
  get engine(): PolicyEngine | undefined {
    return this.#engine;
  }

  /**
   * Waits (at most `timeoutMs`) for a Redis store to connect, so that a fresh proxy does not answer its
   * first requests with the fail mode; serving starts anyway after that, and the store keeps reconnecting.
   */
  async storeReady(timeoutMs = 5_000): Promise<void> {
    const store = this.store as RateLimitStore & { ready?: (ms: number) => Promise<void> };
    if (!store.ready) return;
    try {
      await store.ready(timeoutMs);
    } catch (err) {
      this.#log.warn('rate-limit store not connected yet; requests get the fail mode until it is', {
        failMode: this.#settings.rateLimitFailMode,
        err: errorMessage(err),
      });
    }
  }

  /** Loads what this snapshot needs before it is compiled (the engine, on the first AccessPolicy). */
  async prepare(inputs: AttachedPolicyInputs): Promise<void> {
    if (this.#engine || this.#closed || inputs.accessPolicies.length === 0) return;
    this.#loading ??= this.#loadEngine().finally(() => (this.#loading = undefined));
    await this.#loading;
  }

  compile(inputs: AttachedPolicyInputs): AttachedPolicies {
    const engine = this.#engine ?? NO_RULES_ENGINE;
    this.#rules = engine.accessRules();
    const policies = compileAttachedPolicies(inputs, {
      rateLimitStore: this.store,
      engine,
      gatewayLimitScope: this.#settings.gatewayLimitScope,
      rateLimitHeaders: {
        onAllowed: this.#settings.rateLimitHeaders,
        onLimited: this.#settings.rateLimitHeaders,
      },
      logger: this.#log,
    });
    for (const i of policies.invalid)
      this.#log.warn('policy not applied as written', {
        kind: i.kind,
        policy: i.policy,
        problems: i.problems,
      });
    return policies;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#poll);
    for (const w of this.#watchers.splice(0)) w.stop();
    await this.#loading?.catch(() => undefined);
    if (this.#ownStore) await this.store.close();
  }

  #buildStore(): RateLimitStore {
    const { rateLimitRedis, rateLimitFailMode, rateLimitRedisTimeoutMs, localMaxKeys } = this.#settings;
    if (!rateLimitRedis) return createLocalStore({ maxKeys: localMaxKeys });
    this.#log.info('rate-limit counters in Redis', {
      redis: redactUrl(rateLimitRedis),
      failMode: rateLimitFailMode,
    });
    return createRedisStore({
      url: rateLimitRedis,
      failMode: rateLimitFailMode,
      commandTimeoutMs: rateLimitRedisTimeoutMs,
    });
  }

  async #loadEngine(): Promise<void> {
    let config: PolicyConfig;
    try {
      config = this.#settings.policyConfigPath
        ? loadPolicyConfigFile(this.#settings.policyConfigPath)
        : defaultPolicyConfig();
      const engine = await PolicyEngine.create({ enforcement: config.enforcement, logger: this.#log });
      if (this.#closed) return;
      this.#engine = engine;
      this.#loadFailed = false;
    } catch (err) {
      // fail closed: AccessPolicies stay invalid (500) until a later snapshot loads the engine
      if (!this.#loadFailed)
        this.#log.error('policy engine not loaded; AccessPolicies refuse their requests (500) until it is', {
          err: errorMessage(err),
        });
      this.#loadFailed = true;
      return;
    }
    const configMaps = config.bundles.some((b) => 'configMap' in b)
      ? await this.#options.configMaps?.().catch((err: unknown) => {
          this.#log.error('ConfigMap policy bundles not readable', { err: errorMessage(err) });
          return undefined;
        })
      : undefined;
    if (this.#closed) return;
    this.#watchers = watchBundles(config.bundles, {
      engine: this.#engine,
      logger: this.#log,
      ...(configMaps ? { configMaps } : {}),
      // the first loads are seen by the compile that follows this load; later ones need a recompile
      onLoaded: () => void (this.#engine && !this.#loading ? this.#checkRules() : undefined),
    });
    await Promise.all(this.#watchers.map((w) => w.ready));
    // bundles removed from a ConfigMap or loaded by another owner are caught by the same check
    this.#startPoll();
  }

  #adopt(engine: PolicyEngine): void {
    this.#engine = engine;
    this.#startPoll();
  }

  #startPoll(): void {
    clearInterval(this.#poll);
    this.#poll = setInterval(() => this.#checkRules(), this.#options.rulePollMs ?? 2_000);
    this.#poll.unref();
  }

  /** Recompile when the engine's rules are not the very objects the last compile saw. */
  #checkRules(): void {
    if (!this.#engine || this.#closed) return;
    const now = this.#engine.accessRules();
    const same = now.length === this.#rules.length && now.every((r, i) => r === this.#rules[i]);
    if (same) return;
    this.#rules = now;
    this.#log.info('policy rules changed; recompiling the route table', { rules: now.map((r) => r.name) });
    this.#options.onRulesChanged();
  }
}

/** redis://user:secret@host → redis://user:***@host (never log a password). */
export function redactUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}
