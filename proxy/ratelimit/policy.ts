// One compiled RateLimitPolicy as the proxy's pipeline sees it: a RequestPolicy whose evaluate() picks
// the limits whose selectors match, charges their counters in one store call, and turns the outcome into
// a verdict with the rate-limit response headers.
import type { RateLimit, RateLimitPolicy } from '../../api/ratelimitpolicy.ts';
import type { PolicyVerdict, RequestContext, RequestPolicy } from '../request-policy.ts';
import { gcraLimit, UNIT_MS, type CounterState, type GcraLimit } from './gcra.ts';
import { decisionTally, type DecisionTally } from './metrics.ts';
import { compileClientSelectors, type ClientKeyFn, type ClientKeying } from './selectors.ts';
import type { ConsumeResult, CounterCheck, RateLimitStore } from './store.ts';

/** Which responses carry X-RateLimit-Limit/-Remaining/-Reset. Retry-After is always sent with a 429. */
export interface RateLimitHeaderOptions {
  /** on 429 responses; default true */
  onLimited?: boolean;
  /** on allowed responses (the most constrained matching limit); default true */
  onAllowed?: boolean;
}

export interface CompiledLimit {
  readonly name: string;
  readonly requests: number;
  readonly unit: RateLimit['unit'];
  readonly gcra: GcraLimit;
  readonly clientKey: ClientKeyFn;
  /** the counter key up to the client part: hash-tagged policy, scope and limit name */
  readonly keyPrefix: string;
  readonly refusal: string;
}

export interface RateLimitRequestPolicyOptions {
  /** a policy that passed validateRateLimitPolicy */
  policy: RateLimitPolicy;
  /**
   * the limits to enforce: one section of the policy (spec.defaults or spec.overrides); default: the
   * top-level spec.limits
   */
  limits?: readonly RateLimit[];
  /** counter scope: '' for counters shared wherever the policy applies, else e.g. the route it counts for */
  scope: string;
  store: RateLimitStore;
  headers?: RateLimitHeaderOptions;
  /** how Distinct values name counters (selectors.ts); default: verbatim for the local store, digest for Redis */
  keying?: ClientKeying;
}

const ALLOW: PolicyVerdict = { allow: true };

export class RateLimitRequestPolicy implements RequestPolicy {
  readonly kind = 'RateLimitPolicy' as const;
  readonly name: string;
  readonly limits: readonly CompiledLimit[];
  private readonly store: RateLimitStore;
  private readonly onLimited: boolean;
  private readonly onAllowed: boolean;
  private readonly count: DecisionTally;

  constructor(options: RateLimitRequestPolicyOptions) {
    const { policy, scope, store } = options;
    const limits = options.limits ?? policy.spec.limits ?? [];
    this.name = `${policy.metadata.namespace ?? ''}/${policy.metadata.name}`;
    this.store = store;
    this.onLimited = options.headers?.onLimited ?? true;
    this.onAllowed = options.headers?.onAllowed ?? true;
    // The hash tag keeps all counters of one request in one Redis Cluster slot (one script call).
    const base = `{${this.name}}:${scope}:`;
    // in-process counters are named by the values themselves; Redis ones by a digest (selectors.ts)
    const keying = options.keying ?? (store.kind === 'local' ? 'verbatim' : 'digest');
    this.limits = limits.map((l) => ({
      name: l.name,
      requests: l.requests,
      unit: l.unit,
      gcra: gcraLimit(l.requests, UNIT_MS[l.unit]),
      clientKey: compileClientSelectors(l.clientSelectors, keying),
      keyPrefix: `${base}${l.name}:`,
      refusal: `rate limit ${l.name} of RateLimitPolicy ${this.name} exceeded (${l.requests} per ${l.unit.toLowerCase()})`,
    }));
    this.count = decisionTally(this.name);
  }

  evaluate(ctx: RequestContext): PolicyVerdict | Promise<PolicyVerdict> {
    if (this.limits.length === 1) return this.evaluateOne(ctx);
    const checks: CounterCheck[] = [];
    const applied: CompiledLimit[] = [];
    for (const limit of this.limits) {
      const client = limit.clientKey(ctx);
      if (client === undefined) continue;
      checks.push({ key: limit.keyPrefix + client, limit: limit.gcra });
      applied.push(limit);
    }
    if (checks.length === 0) return ALLOW;
    const result = this.store.consume(checks);
    return result instanceof Promise
      ? result.then((r) => this.verdict(r, applied))
      : this.verdict(result, applied);
  }

  /** The common case, one limit: the same as the loop above without its two arrays per request. */
  private evaluateOne(ctx: RequestContext): PolicyVerdict | Promise<PolicyVerdict> {
    const applied = this.limits; // [the one limit]
    const limit = applied[0] as CompiledLimit;
    const client = limit.clientKey(ctx);
    if (client === undefined) return ALLOW;
    const result = this.store.consume([{ key: limit.keyPrefix + client, limit: limit.gcra }]);
    return result instanceof Promise
      ? result.then((r) => this.verdict(r, applied))
      : this.verdict(result, applied);
  }

  private verdict(result: ConsumeResult, applied: readonly CompiledLimit[]): PolicyVerdict {
    if (result.kind === 'unavailable') {
      if (result.allowed) {
        this.count.failed_open++;
        return ALLOW;
      }
      this.count.failed_closed++;
      return {
        allow: false,
        status: 503,
        reason: 'rate-limit store unavailable',
        headers: { 'retry-after': '1' },
      };
    }
    if (result.allowed) {
      this.count.allowed++;
      if (!this.onAllowed) return ALLOW;
      const i = indexOfMin(result.counters, (c) => c.remaining);
      return { allow: true, headers: rateHeaders(applied[i]!, result.counters[i]!) };
    }
    this.count.limited++;
    const i = indexOfMin(result.counters, (c) => (c.allowed ? Infinity : -c.retryAfterMs));
    const counter = result.counters[i]!;
    const retryAfter = String(Math.max(1, Math.ceil(counter.retryAfterMs / 1000)));
    const headers = this.onLimited
      ? { 'retry-after': retryAfter, ...rateHeaders(applied[i]!, counter) }
      : { 'retry-after': retryAfter };
    return { allow: false, status: 429, reason: applied[i]!.refusal, headers };
  }
}

function rateHeaders(limit: CompiledLimit, counter: CounterState): Record<string, string> {
  return {
    'x-ratelimit-limit': String(limit.requests),
    'x-ratelimit-remaining': String(counter.remaining),
    'x-ratelimit-reset': String(Math.ceil(counter.resetMs / 1000)),
  };
}

function indexOfMin<T>(items: readonly T[], score: (t: T) => number): number {
  let best = 0;
  for (let i = 1; i < items.length; i++) if (score(items[i]!) < score(items[best]!)) best = i;
  return best;
}
