// Exact count-type Tenant limits (spec.limits.maxRoutes) under concurrency and across webhook replicas.
//
// The Rego policy (route_count.rego) compares the informers' count with the limit; every review of a burst
// sees the same count, so a burst would get through several times over. Before a CREATE is admitted, this
// reserves its slot in the tenant's ledger (quota-ledger.ts, one ConfigMap per tenant: quota-store.ts)
// with a read-modify-write guarded by the ConfigMap's resourceVersion: whichever replica writes second
// gets 409 Conflict, reads again and decides again, so no two admissions can share the last slot.
// Concurrent reviews of one tenant in one process queue up and share one read and one write (a batch),
// so conflicts happen only between replicas. Dry runs are answered from the ledger and write nothing.
// When the ledger cannot be read or written in time, the CREATE is refused (fail closed).
import { sleep, withJitter } from '../lib/async.ts';
import { errorMessage } from '../lib/errors.ts';
import { componentLogger, type Logger } from '../lib/logger.ts';
import { isConflict, KubeApiError, KubeRequestError } from '../kube/client.ts';
import { actionFor, BUILTIN_BUNDLE, type EnforcementConfig } from '../policies/config.ts';
import type { AdmissionRequest, Decision, Inventory } from '../policies/types.ts';
import { quotaBatchSize, quotaClaimsTotal, quotaLedgerWritesTotal, quotaPrunedTotal } from './metrics.ts';
import {
  decideClaims,
  parseLedger,
  pruneReservations,
  serializeLedger,
  type ClaimResult,
  type CountView,
  type LedgerTimes,
} from './quota-ledger.ts';
import {
  COUNT_LIMITS,
  countedCreates,
  overLimitMessage,
  type CountedCreate,
  type CountLimit,
} from './quota-limits.ts';
import type { LedgerStore } from './quota-store.ts';

/** A CREATE cannot outlive the API server's --request-timeout (60 s by default); 30 s more for the watch. */
export const DEFAULT_RESERVATION_TTL_MS = 90_000;
/** Replicas' informers are assumed to see an object within this of each other. */
export const DEFAULT_SETTLE_MS = 15_000;
/** Inside the webhook server's 3 s deadline, which is inside the registration's 5 s timeout. */
export const DEFAULT_QUOTA_TIMEOUT_MS = 2_000;
export const DEFAULT_MAX_ATTEMPTS = 30;

export type QuotaOutcome =
  /** the decisions to add (none when every limit had room) */
  | { kind: 'decided'; decisions: Decision[] }
  /** the ledger could not be read or written: refuse the change with this message */
  | { kind: 'error'; message: string };

export interface QuotaReserverOptions {
  store: LedgerStore;
  /** what this replica's informers show (quota-view.ts) */
  counts: { view(limit: CountLimit, tenant: string, inventory: Inventory): CountView };
  /** the current enforcement actions: an over-limit CREATE is refused, warned or recorded accordingly */
  enforcement: () => EnforcementConfig;
  /** the current inventory (tenants, their namespaces and uids) */
  inventory: () => Inventory;
  limits?: readonly CountLimit[];
  ttlMs?: number;
  settleMs?: number;
  /** how long a review may wait for its slot, queue included */
  timeoutMs?: number;
  /** reads + writes per batch before giving up on conflicts */
  maxAttempts?: number;
  now?: () => number;
  logger?: Logger;
}

interface Pending {
  create: CountedCreate;
  dryRun: boolean;
  deadline: number;
  resolve(result: ClaimResult | { error: string }): void;
}

export class QuotaReserver {
  readonly #options: QuotaReserverOptions;
  readonly #times: LedgerTimes;
  readonly #limits: readonly CountLimit[];
  readonly #now: () => number;
  readonly #log: Logger;
  /** tenant -> the reviews waiting for the next read-modify-write of its ledger */
  readonly #queues = new Map<string, Pending[]>();

  constructor(options: QuotaReserverOptions) {
    this.#options = options;
    this.#times = {
      ttlMs: options.ttlMs ?? DEFAULT_RESERVATION_TTL_MS,
      settleMs: options.settleMs ?? DEFAULT_SETTLE_MS,
    };
    this.#limits = options.limits ?? COUNT_LIMITS;
    this.#now = options.now ?? Date.now;
    this.#log = options.logger ?? componentLogger('webhook-quota');
  }

  get times(): LedgerTimes {
    return this.#times;
  }

  /**
   * Holds the request to the count-type limits it is subject to, given what the policies decided. Returns
   * undefined (synchronously) when there is nothing to hold: not a counted CREATE, refused anyway, or
   * already reported over the limit by the Rego policy (in warn or dry-run mode: it goes through as it is).
   */
  review(
    request: AdmissionRequest,
    decisions: readonly Decision[],
    inventory: Inventory,
  ): Promise<QuotaOutcome> | undefined {
    if (decisions.some((d) => d.action === 'deny')) return undefined;
    const creates = countedCreates(request, inventory, this.#limits).filter(
      (c) => !decisions.some((d) => d.policy === c.limit.policy),
    );
    if (creates.length === 0) return undefined;
    return this.#hold(creates, request.dryRun === true);
  }

  async #hold(creates: CountedCreate[], dryRun: boolean): Promise<QuotaOutcome> {
    const deadline = this.#now() + (this.#options.timeoutMs ?? DEFAULT_QUOTA_TIMEOUT_MS);
    const decisions: Decision[] = [];
    // one limit per kind today; were there several, a refusal by a later one would leave the earlier
    // one's reservation to expire (TTL), never to over-admit
    for (const create of creates) {
      const result = await this.#claim(create, dryRun, deadline);
      if ('error' in result) {
        quotaClaimsTotal.inc({ limit: create.limit.field, result: 'error' });
        return { kind: 'error', message: failureMessage(create, this.#options.store, result.error) };
      }
      if (result.admitted) continue;
      quotaClaimsTotal.inc({ limit: create.limit.field, result: 'over' });
      decisions.push({
        policy: create.limit.policy,
        bundle: BUILTIN_BUNDLE,
        message: overLimitMessage(create, result.inUse, result.inFlight),
        action: actionFor(this.#options.enforcement(), create.limit.policy),
      });
    }
    return { kind: 'decided', decisions };
  }

  #claim(create: CountedCreate, dryRun: boolean, deadline: number): Promise<ClaimResult | { error: string }> {
    return new Promise((resolve) => {
      const queue = this.#queues.get(create.tenant);
      const pending: Pending = { create, dryRun, deadline, resolve };
      if (queue) {
        queue.push(pending);
        return;
      }
      // this review starts the tenant's queue: it drains it, batch by batch, until it is empty
      this.#queues.set(create.tenant, [pending]);
      void this.#drain(create.tenant);
    });
  }

  async #drain(tenant: string): Promise<void> {
    const queue = this.#queues.get(tenant)!;
    try {
      while (queue.length) {
        const batch = queue.splice(0);
        try {
          await this.#decide(tenant, batch);
        } catch (err) {
          // a bug, not an API error (those are handled per attempt): fail the batch closed, keep draining
          this.#log.error('quota batch failed', { tenant, err });
          for (const p of batch) p.resolve({ error: errorMessage(err) });
        }
      }
    } finally {
      this.#queues.delete(tenant);
    }
  }

  /** One batch: read the ledger, decide every claim, write it back if it changed; on 409 start over. */
  async #decide(tenant: string, batch: Pending[]): Promise<void> {
    quotaBatchSize.observe(batch.length);
    const store = this.#options.store;
    const maxAttempts = this.#options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    const deadline = Math.min(...batch.map((p) => p.deadline));
    const budget = `${this.#options.timeoutMs ?? DEFAULT_QUOTA_TIMEOUT_MS} ms`;
    /** the last transient failure, to say why time ran out */
    let lastFailure: string | undefined;
    const outOfTime = () =>
      `the API server did not answer within ${budget}` + (lastFailure ? ` (last error: ${lastFailure})` : '');
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - this.#now();
      if (remaining <= 0) return this.#fail(tenant, batch, attempt, outOfTime());
      const signal = AbortSignal.timeout(remaining);
      try {
        const stored = await store.read(tenant, signal);
        const { ledger, malformed } = parseLedger(stored.data);
        if (malformed.length)
          this.#log.warn('quota ledger fields could not be read; they start empty', {
            tenant,
            ledger: store.describe(tenant),
            fields: malformed,
          });
        const now = this.#now();
        const inventory = this.#options.inventory();
        let changed = false;
        const results = new Map<Pending, ClaimResult>();
        for (const limit of this.#limits) {
          const claims = batch.filter((p) => p.create.limit.field === limit.field);
          if (claims.length === 0) continue;
          const view = this.#options.counts.view(limit, tenant, inventory);
          let entries = ledger.get(limit.field);
          if (!entries) ledger.set(limit.field, (entries = new Map()));
          const decided = decideClaims(
            entries,
            claims.map((p) => ({
              key: p.create.key,
              uid: p.create.uid,
              max: p.create.max,
              dryRun: p.dryRun,
            })),
            view,
            now,
            this.#times,
          );
          claims.forEach((p, i) => results.set(p, decided.results[i]!));
          if (decided.changed) {
            // pruning rides along with a write that has to happen anyway (a dry run or a refusal never
            // writes); the reservations just made are too young to go
            const pruned = pruneReservations(entries, view, now, this.#times);
            if (pruned.expired) quotaPrunedTotal.inc({ reason: 'expired' }, pruned.expired);
            if (pruned.settled) quotaPrunedTotal.inc({ reason: 'settled' }, pruned.settled);
            changed = true;
          }
        }
        if (changed) {
          await store.write(
            { tenant, uid: inventory.tenants[tenant]?.uid || undefined },
            serializeLedger(ledger),
            stored.version,
            signal,
          );
          quotaLedgerWritesTotal.inc({ result: 'written' });
        }
        for (const p of batch) {
          const r = results.get(p)!;
          if (r.admitted) {
            const result = p.dryRun ? 'dryrun' : r.reserved ? 'reserved' : 'existing';
            quotaClaimsTotal.inc({ limit: p.create.limit.field, result });
          }
          p.resolve(r);
        }
        return;
      } catch (err) {
        if (isConflict(err) && attempt < maxAttempts) {
          quotaLedgerWritesTotal.inc({ result: 'conflict' });
          // another replica wrote first: read again after a short, random pause so the two do not collide
          // in step again (anywhere from 0 to 5 ms per attempt so far, at most 50 ms)
          const spreadMs = Math.min(5 * attempt, 50) / 2;
          await sleep(withJitter(spreadMs, 1), signal);
          continue;
        }
        if (isTransientFailure(err) && !signal.aborted && attempt < maxAttempts) {
          // a dropped connection or a 5xx may be gone on the next try; the budget still bounds it
          lastFailure = errorMessage(err);
          this.#log.debug('quota ledger request failed; retrying', { tenant, attempt, err: lastFailure });
          await sleep(withJitter(60, 2 / 3), signal); // 20 to 100 ms
          continue;
        }
        const reason = isConflict(err)
          ? `${attempt} attempts in a row conflicted with concurrent writes`
          : signal.aborted
            ? outOfTime()
            : err instanceof KubeApiError
              ? `the API server answered ${err.statusCode}: ${err.status.message ?? err.reason}`
              : errorMessage(err);
        return this.#fail(tenant, batch, attempt, reason);
      }
    }
  }

  #fail(tenant: string, batch: Pending[], attempt: number, reason: string): void {
    quotaLedgerWritesTotal.inc({ result: 'error' });
    this.#log.warn('quota ledger read or write failed; refusing the CREATEs waiting on it', {
      tenant,
      ledger: this.#options.store.describe(tenant),
      claims: batch.length,
      attempt,
      err: reason,
    });
    for (const p of batch) p.resolve({ error: reason });
  }
}

/** No answer, or the API server's own trouble (429 is already retried by the client). */
function isTransientFailure(err: unknown): boolean {
  return err instanceof KubeRequestError || (err instanceof KubeApiError && err.statusCode >= 500);
}

function failureMessage(create: CountedCreate, store: LedgerStore, reason: string): string {
  return (
    `[${create.limit.policy}] tenantgate could not reserve a slot under spec.limits.${create.limit.field} of Tenant ` +
    `${create.tenant} (${store.describe(create.tenant)}): ${reason}. The change is not let through — retry; ` +
    `if this persists, the webhook cannot reach the API server or update that ConfigMap (see its logs)`
  );
}
