// The spool in front of PostgreSQL (a real server): records appended while the database is unreachable
// stay on disk and ship once it is back, a spool left behind by a stopped process ships on the next
// start, and a batch shipped twice (a crash between the store's commit and the spool's delete) is stored once.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '../../lib/metrics.ts';
import { PostgresAuditStore } from '../../webhooks/audit/postgres-store.ts';
import { AuditSpool } from '../../webhooks/audit/spool.ts';
import { freePortOutsideEphemeralRange } from '../env/server-process.ts';
import { auditTestEnv, sampleRecord } from './audit-fixtures.ts';

const env = auditTestEnv('tg-audit-spool-');

const records = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) =>
    sampleRecord({ uid: `${prefix}-${i}`, time: new Date(Date.UTC(2026, 2, 1, 0, i)).toISOString() }),
  );

async function count(store: PostgresAuditStore, uidPrefix: string): Promise<number> {
  const page = await store.query({ limit: 1000 });
  return page.items.filter((r) => r.uid.startsWith(uidPrefix)).length;
}

async function spoolDepthMetric(): Promise<number> {
  return (await registry.getSingleMetric('tenantgate_audit_spool_depth')!.get()).values[0]!.value;
}

describe('audit spool in front of PostgreSQL', () => {
  it('ships what it spooled, in batches, and empties', async () => {
    const store = new PostgresAuditStore({ dsn: await env.pg.createDatabase('spool_a') });
    await store.migrate();
    const spool = new AuditSpool({ path: join(env.dir, 'a.db'), store, batchSize: 7 });
    try {
      // appended concurrently: they share commits (group commit)
      await Promise.all(records('a', 50).map((r) => spool.append(r)));
      expect(await spool.drain(10_000)).toBe(0);
      expect(await count(store, 'a-')).toBe(50);
      expect(await spoolDepthMetric()).toBe(0);
    } finally {
      await spool.close();
      await store.close();
    }
  });

  it('keeps records while the database is unreachable, and the next start ships them, none twice', async () => {
    const dsn = await env.pg.createDatabase('spool_b');
    const good = new PostgresAuditStore({ dsn });
    await good.migrate();
    // a batch that was committed to the store, but whose spool delete never happened (crash in between)
    await good.insert(records('b', 5));
    const down = new PostgresAuditStore({
      dsn: `postgres://tenantgate@127.0.0.1:${await freePortOutsideEphemeralRange()}/x`,
    });
    const path = join(env.dir, 'b.db');
    const first = new AuditSpool({ path, store: down, retryMs: 20 });
    await Promise.all(records('b', 20).map((r) => first.append(r)));
    // shipping fails (nothing listens); the records stay spooled
    expect(await first.drain(300)).toBe(20);
    expect(await spoolDepthMetric()).toBe(20);
    await first.close();
    await down.close();

    const second = new AuditSpool({ path, store: good });
    try {
      expect(await second.drain(10_000)).toBe(0);
      expect(await count(good, 'b-')).toBe(20);
      expect(await good.insert(records('b', 20))).toBe(0);
    } finally {
      await second.close();
      await good.close();
    }
  });
});
