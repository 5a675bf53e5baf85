// One compiled AccessPolicy as the proxy's pipeline sees it: a RequestPolicy whose evaluate() builds the
// rule's input from the request and asks the shared policy engine (opa-wasm, the same engine as the
// webhooks) for a decision. One instance per (policy, route), so the parts of the input that depend only on
// them (route, tenant, parameters) are built once, not per request.
import { errorMessage } from '../../lib/errors.ts';
import { componentLogger, type Logger } from '../../lib/logger.ts';
import type { AccessDecision, AccessInput } from '../../policies/types.ts';
import type { PolicyVerdict, RequestContext, RequestPolicy } from '../request-policy.ts';
import { matchApiKey, type ApiKeyConfig } from './api-key.ts';
import type { DecisionCache } from './decision-cache.ts';
import type { KeyContext } from './decision-key.ts';
import type { AccessEngine } from './engine.ts';
import { accessTally, type AccessTally } from './metrics.ts';
import { redactHeaders } from './redact.ts';

export interface AccessRequestPolicyOptions {
  /** namespace/name of the AccessPolicy */
  name: string;
  rule: string;
  /** spec.parameters (for api-key: replaced per request by the outcome of the key comparison) */
  parameters: Record<string, unknown>;
  apiKey?: ApiKeyConfig;
  route: { kind: string; namespace: string; name: string };
  /** the `tenantgate.io/tenant` label of the route's namespace */
  tenant?: string;
  engine: AccessEngine;
  /** decisions shared by every route the policy section governs; none: evaluate every request */
  cache?: DecisionCache;
  logger?: Logger;
}

const ALLOW: PolicyVerdict = { allow: true };
const ERROR_LOG_INTERVAL_MS = 10_000;

export class AccessRequestPolicy implements RequestPolicy {
  readonly kind = 'AccessPolicy' as const;
  readonly name: string;
  readonly rule: string;
  private readonly engine: AccessEngine;
  private readonly route: AccessInput['route'];
  private readonly tenant: string | undefined;
  private readonly parameters: Record<string, unknown>;
  private readonly apiKey: ApiKeyConfig | undefined;
  /** api-key: the parameters the rule sees when the key matched nothing */
  private readonly noKeyMatched: Record<string, unknown> | undefined;
  private readonly sensitive: ReadonlySet<string> | undefined;
  private readonly tally: AccessTally;
  private readonly cache: DecisionCache | undefined;
  private readonly log: Logger;
  private lastErrorLog = -Infinity;

  constructor(options: AccessRequestPolicyOptions) {
    this.name = options.name;
    this.rule = options.rule;
    this.engine = options.engine;
    this.route = { kind: options.route.kind, namespace: options.route.namespace, name: options.route.name };
    this.tenant = options.tenant;
    this.parameters = options.parameters;
    this.apiKey = options.apiKey;
    this.noKeyMatched = options.apiKey ? { header: options.apiKey.header, sha256: [] } : undefined;
    this.sensitive = options.apiKey ? new Set([options.apiKey.header]) : undefined;
    this.tally = accessTally(options.name);
    this.cache = options.cache;
    this.log = options.logger ?? componentLogger('proxy-access');
  }

  evaluate(ctx: RequestContext): PolicyVerdict {
    const matched = this.apiKey
      ? matchApiKey(ctx.headers[this.apiKey.header], this.apiKey.digests)
      : undefined;
    const cache = this.cache;
    const keyFn = cache?.keyFn();
    let key: string | undefined;
    let decision: AccessDecision | undefined;
    if (keyFn) {
      // allow-cidrs: the client address is the key (decision-key.ts), no key context to build
      key =
        keyFn.sourceIpOnly && !this.apiKey
          ? ctx.sourceIp
          : keyFn(ctx, this.keyContext(ctx, hostname(ctx.host), matched));
      if (key === undefined) cache!.tally.uncached++;
      else decision = cache!.get(key);
    } else if (cache) cache.tally.uncached++;
    if (!decision) {
      const input: AccessInput = {
        method: ctx.method,
        path: ctx.path,
        host: hostname(ctx.host),
        headers: ctx.headers as Record<string, string>,
        source_ip: ctx.sourceIp,
        route: this.route,
        tenant: this.tenant,
        parameters: this.apiKey ? this.apiKeyParameters(matched) : this.parameters,
      };
      const answered = this.ask(input);
      if (!answered) {
        return { allow: false, status: 500, reason: `access rule '${this.rule}' is not available` };
      }
      decision = answered;
      if (key !== undefined) cache!.set(key, decision);
    }
    return this.verdict(ctx, decision);
  }

  private keyContext(ctx: RequestContext, host: string, matched: string | undefined): KeyContext {
    const about: KeyContext = { route: this.route, tenant: this.tenant, host };
    if (this.apiKey) {
      const presented = ctx.headers[this.apiKey.header] !== undefined;
      about.apiKey = { header: this.apiKey.header, outcome: presented ? (matched ?? '') : undefined };
    }
    return about;
  }

  /** The rule's decision, or undefined when it cannot be asked at all (counted and logged). */
  private ask(input: AccessInput): AccessDecision | undefined {
    try {
      return this.engine.evaluateAccess(this.rule, input);
    } catch (err) {
      // e.g. the bundle providing the rule was removed since the route table was compiled: fail closed
      this.tally.error++;
      this.logError(err);
      return undefined;
    }
  }

  private verdict(ctx: RequestContext, decision: AccessDecision): PolicyVerdict {
    if (decision.allow) {
      this.tally.allowed++;
      return ALLOW;
    }
    const status = refusalStatus(decision.status);
    if (status >= 500) this.tally.error++;
    else this.tally.denied++;
    if (this.log.isDebugEnabled()) this.logRefusal(ctx, status, decision.reason);
    const why = decision.reason || `refused by rule ${this.rule}`;
    return { allow: false, status, reason: `${why} (AccessPolicy ${this.name})` };
  }

  /** The rule sees the comparison's outcome only; see api-key.ts for why. */
  private apiKeyParameters(matched: string | undefined): Record<string, unknown> {
    return matched === undefined ? this.noKeyMatched! : { header: this.apiKey!.header, sha256: [matched] };
  }

  private logRefusal(ctx: RequestContext, status: number, reason: string): void {
    this.log.debug('request refused by AccessPolicy', {
      policy: this.name,
      rule: this.rule,
      status,
      reason,
      method: ctx.method,
      host: ctx.host,
      path: ctx.path,
      sourceIp: ctx.sourceIp,
      route: `${this.route.kind}/${this.route.namespace}/${this.route.name}`,
      headers: redactHeaders(ctx.headers, this.sensitive),
    });
  }

  private logError(err: unknown): void {
    const now = Date.now();
    if (now - this.lastErrorLog < ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLog = now;
    this.log.error('access rule could not be evaluated; refusing with 500', {
      policy: this.name,
      rule: this.rule,
      error: errorMessage(err),
    });
  }
}

/**
 * Stands in for an AccessPolicy that is invalid (unknown rule, bad parameters, a Secret it cannot read):
 * it still governs its targets and refuses every request there, so a broken authorization rule fails
 * closed instead of leaving the route open. Its status says what is wrong; the client is not told.
 */
export class InvalidAccessPolicy implements RequestPolicy {
  readonly kind = 'AccessPolicy' as const;
  readonly name: string;
  private readonly verdict: PolicyVerdict;
  private readonly tally: AccessTally;

  constructor(name: string) {
    this.name = name;
    this.verdict = { allow: false, status: 500, reason: `AccessPolicy ${name} is invalid; see its status` };
    this.tally = accessTally(name);
  }

  evaluate(): PolicyVerdict {
    this.tally.error++;
    return this.verdict;
  }
}

/** A rule may answer another refusal status (401, 429, 503...); anything that is not 4xx/5xx means 403. */
function refusalStatus(status: number): number {
  return Number.isInteger(status) && status >= 400 && status <= 599 ? status : 403;
}

/** The Host without its port, lower-cased: what a rule compares with hostnames. */
export function hostname(host: string): string {
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    return (close > 0 ? host.slice(0, close + 1) : host).toLowerCase();
  }
  const colon = host.indexOf(':');
  return (colon >= 0 ? host.slice(0, colon) : host).toLowerCase();
}
