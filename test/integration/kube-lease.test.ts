// LeaderElector against a real coordination.k8s.io/v1 Lease (short timings where a test waits for expiry,
// so it is quick; the defaults, 15/10/2 s, are exercised by tenant-leader.test.ts with real processes).
// Nothing here depends on the machine being fast: where a test shows that something did *not* wait for
// the lease to expire, the lease is a minute long, far longer than any wait for the condition.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObject, replaceObject } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { LeaderElector, type Lease } from '../../kube/lease.ts';
import { KINDS } from '../../kube/resources.ts';
import { microTime } from '../../kube/events.ts';
import { testKubeConfig } from '../env/test-cluster.ts';
import { eventually, uniqueName } from './tenant-fixtures.ts';

const namespace = uniqueName('leases');
const clients: KubeClient[] = [];
let admin: KubeClient;

function candidate(name: string, identity: string, log: string[], leaseDurationMs = 2_000) {
  // a client of its own, as a separate process would have
  const client = new KubeClient({ kubeConfig: testKubeConfig() });
  clients.push(client);
  return new LeaderElector({
    client,
    namespace,
    name,
    identity,
    leaseDurationMs,
    renewDeadlineMs: leaseDurationMs - 500,
    retryPeriodMs: 250,
    onStartedLeading: () => void log.push(`${identity} started`),
    onStoppedLeading: () => void log.push(`${identity} stopped`),
  });
}

async function lease(name: string): Promise<Lease | undefined> {
  return admin.get<Lease>(KINDS.Lease, { namespace, name });
}

beforeAll(async () => {
  admin = new KubeClient({ kubeConfig: testKubeConfig() });
  await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
});

afterAll(async () => {
  await Promise.all([admin, ...clients].map((c) => c.close()));
});

describe('LeaderElector', () => {
  it('elects one of two candidates and hands over at once when the leader releases the Lease', async () => {
    const log: string[] = [];
    const a = candidate('one', 'a', log, 60_000);
    const b = candidate('one', 'b', log, 60_000);
    a.start();
    await eventually(() => a.isLeader(), { what: 'a leading' });
    b.start();
    await eventually(() => b.leader === 'a', { what: 'b seeing a lead' });
    expect(b.isLeader()).toBe(false);
    const l = await lease('one');
    expect(l?.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 60, leaseTransitions: 0 });
    await a.stop();
    expect(log).toEqual(['a started', 'a stopped']);
    // released: an empty holder (or b already), not a record left to expire
    expect(['', 'b']).toContain((await lease('one'))?.spec?.holderIdentity);
    // b leads long before a's 60 s lease could have run out
    await eventually(() => b.isLeader(), { what: 'b leading', timeoutMs: 30_000 });
    expect((await lease('one'))?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.stop();
    expect((await lease('one'))?.spec?.holderIdentity).toBe('');
  });

  it('takes over an expired Lease whose holder vanished without releasing it', async () => {
    const now = microTime(new Date());
    await createObject(admin, {
      apiVersion: KINDS.Lease.apiVersion,
      kind: 'Lease',
      metadata: { name: 'two', namespace },
      spec: {
        holderIdentity: 'ghost',
        leaseDurationSeconds: 2,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 3,
      },
    } as Lease);
    const log: string[] = [];
    const c = candidate('two', 'c', log);
    const started = Date.now();
    c.start();
    await new Promise((r) => setTimeout(r, 1_000));
    expect(c.isLeader()).toBe(false);
    await eventually(() => c.isLeader(), { what: 'c leading' });
    // it waits a whole lease duration from when it first saw the record
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    expect((await lease('two'))?.spec).toMatchObject({ holderIdentity: 'c', leaseTransitions: 4 });
    await c.stop();
  });

  it('leads at once over a Lease its own identity holds, unreleased (a restart after a kill)', async () => {
    const now = microTime(new Date());
    await createObject(admin, {
      apiVersion: KINDS.Lease.apiVersion,
      kind: 'Lease',
      metadata: { name: 'mine', namespace },
      // a long lease, freshly renewed by an earlier process of the same identity that never released it
      spec: { holderIdentity: 'kept', leaseDurationSeconds: 60, acquireTime: now, renewTime: now },
    } as Lease);
    const log: string[] = [];
    const again = candidate('mine', 'kept', log);
    const started = Date.now();
    again.start();
    await eventually(() => again.isLeader(), { what: 'the same identity leading' });
    // far less than the 60 s a new identity would wait
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await lease('mine'))?.spec).toMatchObject({ holderIdentity: 'kept', acquireTime: now });
    await again.stop();
  });

  it('stops leading when it cannot renew (someone else took the Lease)', async () => {
    const log: string[] = [];
    const d = candidate('three', 'd', log);
    d.start();
    await eventually(() => d.isLeader(), { what: 'd leading' });
    // an intruder overwrites the record; d's renewals now fail until the renew deadline passes
    const current = (await lease('three'))!;
    const now = microTime(new Date());
    const keepStealing = setInterval(() => {
      void admin
        .get<Lease>(KINDS.Lease, { namespace, name: 'three' })
        .then(
          (l) =>
            l &&
            replaceObject(admin, {
              ...l,
              spec: { ...l.spec, holderIdentity: 'intruder', renewTime: microTime(new Date()) },
            }),
        )
        .catch(() => undefined);
    }, 200);
    await replaceObject(admin, {
      ...current,
      spec: { ...current.spec, holderIdentity: 'intruder', renewTime: now },
    });
    try {
      await eventually(() => !d.isLeader(), { what: 'd to step down', timeoutMs: 30_000 });
      expect(log).toEqual(['d started', 'd stopped']);
    } finally {
      clearInterval(keepStealing);
      await d.stop();
    }
  });
});
