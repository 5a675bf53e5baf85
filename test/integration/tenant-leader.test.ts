// Leader election with real processes: `tenantgate run --components operator` started twice; exactly one
// reconciles; SIGKILL of the leader hands over once the Lease expires (15 s, observed by the standby's
// clock); SIGTERM releases the Lease so that a standby takes over at once. The timing assertions are lower
// bounds (the standby did wait) and facts read from the Lease (it was released); how fast the machine is
// only moves the polls' deadlines, which are generous.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Lease } from '../../kube/lease.ts';
import { KINDS } from '../../kube/resources.ts';
import {
  eventsAbout,
  eventually,
  fixture,
  get,
  readyTenant,
  spawnOperator,
  uniqueName,
  type Fixture,
  type OperatorProcess,
} from './tenant-fixtures.ts';

let f: Fixture;
const leaseNamespace = uniqueName('lease');
const procs: OperatorProcess[] = [];

async function spawn(identity: string): Promise<OperatorProcess> {
  const p = await spawnOperator({ shard: f.shard, leaseNamespace, identity });
  procs.push(p);
  await eventually(async () => (await p.isLeader()) !== undefined, {
    what: `${identity} serving /metrics`,
    timeoutMs: 30_000,
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n${p.output()}`);
  });
  return p;
}

async function holder(): Promise<string | undefined> {
  return (await get<Lease>(f.admin, KINDS.Lease, 'tenantgate-operator', leaseNamespace))?.spec
    ?.holderIdentity;
}

/** Ready, with the Created Event reported by `instance`. */
async function onboardedBy(instance: string): Promise<void> {
  const name = uniqueName('led');
  await f.tenant(name, { namespaces: [{ name: uniqueName('led-ns') }] });
  const t = await readyTenant(f.admin, name, 30_000);
  const events = await eventually(
    async () => {
      const list = await eventsAbout(f.admin, t.metadata.uid!);
      return list.some((e) => e.reason === 'Created') ? list : undefined;
    },
    { what: 'a Created Event' },
  );
  expect(events.filter((e) => e.reason === 'Created').map((e) => e.reportingInstance)).toEqual([instance]);
}

function reconcileCount(metrics: string): number {
  return [...metrics.matchAll(/^tenantgate_operator_reconciles_total\{[^}]*\} (\d+)/gm)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
}

beforeAll(() => {
  f = fixture();
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await f.close();
});

describe('leader election between two operator processes', () => {
  let a: OperatorProcess;
  let b: OperatorProcess;

  it('lets exactly one of them reconcile', async () => {
    a = await spawn('op-a');
    await eventually(() => a.isLeader(), { what: 'op-a leading', timeoutMs: 20_000 });
    b = await spawn('op-b');
    await onboardedBy('op-a');
    expect(await holder()).toBe('op-a');
    expect(await b.isLeader()).toBe(false);
    expect(reconcileCount(await b.metrics())).toBe(0);
    expect(reconcileCount(await a.metrics())).toBeGreaterThan(0);
  }, 90_000);

  it('hands over when the leader is killed, once the Lease has expired', async () => {
    await a.kill('SIGKILL');
    const killed = Date.now();
    // killed, not stopped: the Lease still names op-a
    expect(await holder()).toBe('op-a');
    await eventually(() => b.isLeader(), { what: 'op-b leading', timeoutMs: 60_000 });
    const handover = Date.now() - killed;
    // the standby waits until the record it observed is 15 s old by its own clock; op-a renewed it at most
    // its renew deadline (10 s) before it died, so the standby cannot have taken a live Lease
    expect(handover).toBeGreaterThanOrEqual(15_000 - 10_000);
    expect(await holder()).toBe('op-b');
    await onboardedBy('op-b');
  }, 90_000);

  it('hands over at once when the leader stops gracefully (SIGTERM releases the Lease)', async () => {
    const c = await spawn('op-c');
    expect(await c.isLeader()).toBe(false);
    expect(await b.kill('SIGTERM')).toBe(0);
    // released on the way out: an empty holder (or op-c already), not a record left to expire
    expect(['', 'op-c']).toContain(await holder());
    await eventually(() => c.isLeader(), { what: 'op-c leading', timeoutMs: 30_000 });
    await onboardedBy('op-c');
  }, 90_000);
});
