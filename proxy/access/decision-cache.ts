// Decisions of one AccessPolicy (one section of it), reused for requests that are equal in what its rule
// declares it reads: allow-cidrs reads the client address only, so one evaluation answers every request
// from that address. A rule's `reads` entrypoint (policies/access/catalog.rego) makes that declaration;
// a rule without one is evaluated on every request.
//
// Valid for one policy generation: a cache belongs to one compiled route table (a changed policy, Secret
// or route compiles new ones), and it empties itself when the engine's generation moves (a bundle loaded,
// replaced or removed, new data), re-reading the rule's declaration then. Bounded: at most `max` decisions
// (lib/bounded-map.ts: any input seen within the last max/2 distinct ones is kept) of keys no longer than
// MAX_KEY_LENGTH, so a section holds at most ~2,048 × 330 B ≈ 0.7 MB, ~0.15 MB for client addresses.
import { BoundedMap } from '../../lib/bounded-map.ts';
import type { AccessDecision } from '../../policies/types.ts';
import { decisionKey, type DecisionKeyFn } from './decision-key.ts';
import type { AccessEngine } from './engine.ts';
import { cacheTally, type CacheTally } from './metrics.ts';

export const DEFAULT_MAX_DECISIONS = 2_048;

export interface DecisionCacheOptions {
  engine: Pick<AccessEngine, 'generation' | 'accessReads'>;
  rule: string;
  /** the policy's parameters, as the rule's declaration is asked with them */
  parameters: Record<string, unknown>;
  /** namespace/name of the policy, for the hit/miss metric */
  policy: string;
  max?: number;
}

export class DecisionCache {
  readonly #options: DecisionCacheOptions;
  readonly #decisions: BoundedMap<string, AccessDecision>;
  #generation: number | undefined;
  #key: DecisionKeyFn | undefined;
  readonly tally: CacheTally;

  constructor(options: DecisionCacheOptions) {
    this.#options = options;
    this.#decisions = new BoundedMap(options.max ?? DEFAULT_MAX_DECISIONS);
    this.tally = cacheTally(options.policy);
  }

  /** The key builder for the engine's current generation, or undefined: the rule is not cacheable. */
  keyFn(): DecisionKeyFn | undefined {
    const generation = this.#options.engine.generation;
    if (generation !== this.#generation) {
      this.#generation = generation;
      this.#decisions.clear();
      const reads = this.#options.engine.accessReads(this.#options.rule, this.#options.parameters);
      this.#key = reads ? decisionKey(reads) : undefined;
    }
    return this.#key;
  }

  get(key: string): AccessDecision | undefined {
    const d = this.#decisions.get(key);
    if (d) this.tally.hit++;
    else this.tally.miss++;
    return d;
  }

  /** Only answers of the rule are kept: a 5xx may be an evaluation failure, which must not stick. */
  set(key: string, decision: AccessDecision): void {
    if (decision.status >= 500) return;
    this.#decisions.set(key, decision);
  }

  get size(): number {
    return this.#decisions.size;
  }
}
