// The reservation logic of two replicas sharing one ledger store that behaves as the API server does with
// resourceVersion preconditions (a stale write gets 409 Conflict). The real API server and two real
// webhook processes: test/integration/webhook-quota.test.ts.
import { describe, expect, it } from 'vitest';
import { KubeApiError, KubeRequestError } from '../kube/client.ts';
import type { EnforcementConfig } from '../policies/config.ts';
import type { AdmissionRequest, Decision, Inventory } from '../policies/types.ts';
import { parseLedger, type CountView } from './quota-ledger.ts';
import type { LedgerOwner, LedgerStore, StoredLedger } from './quota-store.ts';
import { QuotaReserver, type QuotaOutcome, type QuotaReserverOptions } from './quota.ts';
import { inventory as fixtureInventory, routeRequest } from '../test/helpers/admission.ts';

/** An API server's view of one ConfigMap per tenant: every read and write takes a turn of the event loop. */
class MemoryStore implements LedgerStore {
  readonly ledgers = new Map<string, { data: Record<string, string>; version: number; owner: LedgerOwner }>();
  writes = 0;
  conflicts = 0;
  failure: Error | undefined;
  hang = false;

  describe(tenant: string): string {
    return `ConfigMap test/tenantgate-quota-${tenant}`;
  }

  async read(tenant: string, signal: AbortSignal): Promise<StoredLedger> {
    await this.#turn(signal);
    const l = this.ledgers.get(tenant);
    return l ? { data: { ...l.data }, version: String(l.version) } : { data: {} };
  }

  async write(
    owner: LedgerOwner,
    data: Record<string, string>,
    version: string | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    await this.#turn(signal);
    const current = this.ledgers.get(owner.tenant);
    if ((current ? String(current.version) : undefined) !== version) {
      this.conflicts++;
      throw new KubeApiError('PUT', '/ledger', 409, {
        reason: 'Conflict',
        message: 'the object has been modified',
      });
    }
    this.writes++;
    this.ledgers.set(owner.tenant, { data, version: (current?.version ?? 0) + 1, owner });
  }

  reservations(tenant: string): string[] {
    const l = this.ledgers.get(tenant);
    return [...(parseLedger(l?.data).ledger.get('maxRoutes')?.keys() ?? [])].sort();
  }

  async #turn(signal: AbortSignal): Promise<void> {
    if (this.hang) {
      await new Promise((_, reject) =>
        signal.addEventListener('abort', () => reject(new KubeRequestError(['GET', '/ledger', 'aborted'])), {
          once: true,
        }),
      );
    }
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failure) throw this.failure;
  }
}

/** A replica's informer view: what it shows, and the reserved uids it has seen. */
class FakeCounts {
  visible = new Set<string>();
  seenUids = new Set<string>();
  view(): CountView {
    return { visible: new Set(this.visible), seen: (_key, r) => !!r.uid && this.seenUids.has(r.uid) };
  }
}

function limited(max: number): Inventory {
  const inv = fixtureInventory();
  (inv.tenants.acme!.spec.limits as Record<string, unknown>).maxRoutes = max;
  return inv;
}

const deny: EnforcementConfig = { default: 'deny', policies: {} };

/** A reserver on `store` that denies over the limits of `inventory`; `options` change what a test varies. */
function reserverOn(store: LedgerStore, inventory: Inventory, options: Partial<QuotaReserverOptions> = {}) {
  return new QuotaReserver({
    store,
    counts: new FakeCounts(),
    enforcement: () => deny,
    inventory: () => inventory,
    ...options,
  });
}

function replica(store: LedgerStore, inventory: Inventory, enforcement = deny, counts = new FakeCounts()) {
  const reserver = reserverOn(store, inventory, {
    counts,
    enforcement: () => enforcement,
    timeoutMs: 10_000,
  });
  return { reserver, counts };
}

const create = (name: string, extra: Partial<AdmissionRequest> = {}): AdmissionRequest => {
  const r = routeRequest(undefined, extra);
  const namespace = r.namespace!;
  return {
    ...r,
    uid: `review-${name}`,
    name,
    object: { ...r.object, metadata: { name, namespace, uid: `uid-${name}` } },
  };
};

function decisionsOf(outcome: QuotaOutcome | undefined): Decision[] {
  if (!outcome) return [];
  if (outcome.kind === 'error') throw new Error(outcome.message);
  return outcome.decisions;
}

describe('QuotaReserver', () => {
  it('admits exactly maxRoutes of 100 concurrent CREATEs spread over two replicas', async () => {
    const store = new MemoryStore();
    const inv = limited(7);
    const a = replica(store, inv);
    const b = replica(store, inv);
    const outcomes = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 ? a : b).reserver.review(
          create(`r${i}`, { namespace: i % 3 ? 'acme-web' : 'acme-api' }),
          [],
          inv,
        )!,
      ),
    );
    const refused = outcomes.map(decisionsOf).filter((d) => d.length > 0);
    expect(outcomes.length - refused.length).toBe(7);
    expect(store.reservations('acme')).toHaveLength(7);
    // the two replicas did collide, and recovered by reading again
    expect(store.conflicts).toBeGreaterThan(0);
    // each replica batches its concurrent reviews: far fewer writes than admissions would need one by one
    expect(store.writes).toBeLessThanOrEqual(7);
    expect(refused[0]).toEqual([
      {
        policy: 'route-count',
        bundle: 'builtin',
        action: 'deny',
        message: expect.stringMatching(
          /^tenant 'acme' already has 7 routes \(HTTPRoutes \+ GRPCRoutes\), 7 of them being created right now, and its limit is 7 — delete a route it no longer needs, or ask the platform team to raise spec\.limits\.maxRoutes of Tenant acme$/,
        ),
      },
    ]);
    expect(store.ledgers.get('acme')?.owner).toEqual({ tenant: 'acme', uid: inv.tenants.acme!.uid });
  });

  it('frees the slot of a deleted object, and does not count a reservation that expired', async () => {
    const store = new MemoryStore();
    const inv = limited(2);
    let now = Date.parse('2026-12-04T12:00:00Z');
    const counts = new FakeCounts();
    const reserver = reserverOn(store, inv, { counts, now: () => now });
    expect(decisionsOf(await reserver.review(create('one'), [], inv))).toEqual([]);
    expect(decisionsOf(await reserver.review(create('two'), [], inv))).toEqual([]);
    expect(decisionsOf(await reserver.review(create('three'), [], inv))).toHaveLength(1);
    // 'one' became visible and was deleted again: its slot is free at once
    counts.seenUids.add('uid-one');
    expect(decisionsOf(await reserver.review(create('three'), [], inv))).toEqual([]);
    expect(decisionsOf(await reserver.review(create('four'), [], inv))).toHaveLength(1);
    // 'two' and 'three' never appeared (refused later in the chain): after the TTL they no longer count
    now += reserver.times.ttlMs;
    expect(decisionsOf(await reserver.review(create('four'), [], inv))).toEqual([]);
    // and the write that took the slot dropped them from the ledger
    expect(store.reservations('acme')).toEqual(['HTTPRoute/acme-web/four']);
  });

  it('answers a dry run from the ledger and reserves nothing', async () => {
    const store = new MemoryStore();
    const inv = limited(1);
    const { reserver } = replica(store, inv);
    expect(decisionsOf(await reserver.review(create('dry', { dryRun: true }), [], inv))).toEqual([]);
    expect(store.writes).toBe(0);
    expect(decisionsOf(await reserver.review(create('real'), [], inv))).toEqual([]);
    const refused = decisionsOf(await reserver.review(create('dry2', { dryRun: true }), [], inv));
    expect(refused.map((d) => d.policy)).toEqual(['route-count']);
    expect(store.writes).toBe(1);
    expect(store.reservations('acme')).toEqual(['HTTPRoute/acme-web/real']);
  });

  it('holds nothing for updates, refused requests, tenants without a limit, or what Rego already reported', async () => {
    const store = new MemoryStore();
    const inv = limited(1);
    const { reserver } = replica(store, inv);
    expect(reserver.review(create('u', { operation: 'UPDATE' }), [], inv)).toBeUndefined();
    const denied: Decision = { policy: 'route-hostnames', message: 'x', bundle: 'builtin', action: 'deny' };
    expect(reserver.review(create('d'), [denied], inv)).toBeUndefined();
    const warned: Decision = { policy: 'route-count', message: 'x', bundle: 'builtin', action: 'warn' };
    expect(reserver.review(create('w'), [warned], inv)).toBeUndefined();
    // another tenant with a limit of its own is held
    expect(decisionsOf(await reserver.review(create('g', { namespace: 'globex-web' }), [], inv))).toEqual([]);
    const unlimited = fixtureInventory();
    delete (unlimited.tenants.acme!.spec as { limits?: unknown }).limits;
    expect(reserver.review(create('n'), [], unlimited)).toBeUndefined();
    expect(reserver.review(create('o', { namespace: 'nobody' }), [], inv)).toBeUndefined();
  });

  it('warns instead of refusing when route-count is in warn mode, and reserves nothing for it', async () => {
    const store = new MemoryStore();
    const inv = limited(0);
    const { reserver } = replica(store, inv, { default: 'deny', policies: { 'route-count': 'warn' } });
    const decisions = decisionsOf(await reserver.review(create('x'), [], inv));
    expect(decisions.map((d) => [d.policy, d.action])).toEqual([['route-count', 'warn']]);
    expect(store.writes).toBe(0);
  });

  it('fails closed with a message naming the ledger when the API server cannot be reached', async () => {
    const store = new MemoryStore();
    store.failure = new KubeRequestError(['GET', '/ledger', 'connect ECONNREFUSED 127.0.0.1:6443']);
    const inv = limited(5);
    // retried while the budget lasts (or for maxAttempts), then refused
    const reserver = reserverOn(store, inv, { maxAttempts: 3 });
    const outcome = await reserver.review(create('x'), [], inv);
    expect(outcome).toEqual({
      kind: 'error',
      message: expect.stringMatching(
        /^\[route-count\] tenantgate could not reserve a slot under spec\.limits\.maxRoutes of Tenant acme \(ConfigMap test\/tenantgate-quota-acme\): GET \/ledger failed: connect ECONNREFUSED .*\. The change is not let through — retry/,
      ),
    });
  });

  it('retries a dropped connection and then reserves', async () => {
    const store = new MemoryStore();
    const read = store.read.bind(store);
    let failures = 2;
    store.read = (tenant, signal) =>
      failures-- > 0
        ? Promise.reject(new KubeRequestError(['GET', '/ledger', 'socket hang up']))
        : read(tenant, signal);
    const inv = limited(5);
    const { reserver } = replica(store, inv);
    expect(decisionsOf(await reserver.review(create('x'), [], inv))).toEqual([]);
    expect(store.reservations('acme')).toEqual(['HTTPRoute/acme-web/x']);
  });

  it('fails closed when the API server does not answer in time', async () => {
    const store = new MemoryStore();
    store.hang = true;
    const inv = limited(5);
    const reserver = reserverOn(store, inv, { timeoutMs: 50 });
    const outcome = await reserver.review(create('x'), [], inv);
    expect(outcome?.kind).toBe('error');
    expect(outcome?.kind === 'error' && outcome.message).toContain(
      'the API server did not answer within 50 ms. The change is not let through',
    );
  });

  it('gives up after a bounded number of conflicting writes', async () => {
    const store = new MemoryStore();
    // every write finds the version moved on, as if another replica always wrote first
    store.write = async () => {
      store.conflicts++;
      throw new KubeApiError('PUT', '/ledger', 409, { reason: 'Conflict', message: 'modified' });
    };
    const inv = limited(5);
    const reserver = reserverOn(store, inv, { maxAttempts: 4 });
    const outcome = await reserver.review(create('x'), [], inv);
    expect(store.conflicts).toBe(4);
    expect(outcome?.kind === 'error' && outcome.message).toContain('4 attempts in a row conflicted');
  });
});
