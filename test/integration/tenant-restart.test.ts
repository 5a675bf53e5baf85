// An operator process killed (SIGKILL) in the middle of onboarding, then started again, ends in the same
// state as if it had never stopped: every Tenant Ready, each object exactly once, nothing missing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tenant } from '../../api/tenant.ts';
import { OWNER_ROLE_BINDING, TENANT_LABEL } from '../../controllers/labels.ts';
import type { Namespace, ReferenceGrant, RoleBinding } from '../../controllers/types.ts';
import { KINDS } from '../../kube/resources.ts';
import {
  eventually,
  fixture,
  readyCondition,
  SHARD_LABEL,
  spawnOperator,
  uniqueName,
  type Fixture,
  type OperatorProcess,
} from './tenant-fixtures.ts';

let f: Fixture;
const procs: OperatorProcess[] = [];
const leaseNamespace = uniqueName('restart-lease');
const TENANTS = 40;
const tenants = Array.from({ length: TENANTS }, (_, i) => ({
  name: uniqueName(`re${i}`),
  namespaces: [uniqueName(`re${i}-a`), uniqueName(`re${i}-b`), uniqueName(`re${i}-c`)],
}));

beforeAll(() => {
  f = fixture();
});

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  await f.close();
});

async function shardList<T>(
  kind: typeof KINDS.Namespace | typeof KINDS.RoleBinding | typeof KINDS.ReferenceGrant | typeof KINDS.Tenant,
): Promise<T[]> {
  return (await f.admin.list(kind, { labelSelector: `${SHARD_LABEL}=${f.shard}` })).items as T[];
}

describe('an operator killed in the middle of onboarding', () => {
  it('converges after a restart, with no duplicates and nothing lost', async () => {
    // one reconcile at a time, so that the kill lands with most of the work still to do
    const first = await spawnOperator({
      shard: f.shard,
      leaseNamespace,
      identity: 'first',
      env: { TENANTGATE_OPERATOR_CONCURRENCY: '1' },
    });
    procs.push(first);
    await eventually(() => first.isLeader(), { what: 'the first operator leading', timeoutMs: 30_000 });
    await Promise.all(
      tenants.map((t) =>
        f.tenant(t.name, {
          owners: [{ kind: 'User', name: `${t.name}-owner` }],
          namespaces: t.namespaces.map((name) => ({ name })),
        }),
      ),
    );
    await eventually(async () => (await shardList(KINDS.Namespace)).length > 0, {
      what: 'onboarding under way',
      timeoutMs: 30_000,
    });
    await first.kill('SIGKILL');

    const readyAtKill = (await shardList<Tenant>(KINDS.Tenant)).filter(
      (t) => readyCondition(t)?.status === 'True',
    ).length;
    expect(readyAtKill).toBeLessThan(TENANTS);

    const second = await spawnOperator({ shard: f.shard, leaseNamespace, identity: 'second' });
    procs.push(second);
    // the killed leader's Lease has to expire first (15 s)
    await eventually(
      async () => {
        const all = await shardList<Tenant>(KINDS.Tenant);
        return (
          all.length === TENANTS &&
          all.every(
            (t) =>
              readyCondition(t)?.status === 'True' && t.status?.observedGeneration === t.metadata.generation,
          )
        );
      },
      { what: 'every Tenant Ready after the restart', timeoutMs: 50_000 },
    );

    const namespaces = await shardList<Namespace>(KINDS.Namespace);
    const bindings = await shardList<RoleBinding>(KINDS.RoleBinding);
    const grants = await shardList<ReferenceGrant>(KINDS.ReferenceGrant);
    expect(namespaces).toHaveLength(TENANTS * 3);
    expect(bindings).toHaveLength(TENANTS * 3);
    expect(grants).toHaveLength(TENANTS * 3);
    const all = await shardList<Tenant>(KINDS.Tenant);
    for (const t of tenants) {
      const tenant = all.find((x) => x.metadata.name === t.name)!;
      for (const ns of t.namespaces) {
        const n = namespaces.find((x) => x.metadata?.name === ns);
        expect(n?.metadata?.labels?.[TENANT_LABEL]).toBe(t.name);
        expect(n?.metadata?.ownerReferences?.map((r) => r.uid)).toEqual([tenant.metadata.uid]);
        const rbs = bindings.filter((b) => b.metadata?.namespace === ns);
        expect(rbs.map((b) => b.metadata?.name)).toEqual([OWNER_ROLE_BINDING]);
        expect(rbs[0]?.subjects?.map((s) => s.name)).toEqual([`${t.name}-owner`]);
        const rgs = grants.filter((g) => g.metadata?.namespace === ns);
        expect(rgs).toHaveLength(1);
        expect(new Set(rgs[0]?.spec.from.map((x) => x.namespace))).toEqual(
          new Set(t.namespaces.filter((o) => o !== ns)),
        );
      }
      expect(tenant.status?.namespaces?.map((n) => n.name)).toEqual(t.namespaces);
    }
  }, 120_000);
});
