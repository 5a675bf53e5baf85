// The webhook's audit trail as a whole, on both backends: a record is spooled durably once record()
// resolves and in the store once the loader caught up (spool.drain), counted in
// tenantgate_audit_refusals_total, written to the JSON-lines file when one is set, and retention prunes
// through the loader's connection.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registry } from '../../lib/metrics.ts';
import { openAuditTrail } from '../../webhooks/audit/trail.ts';
import { auditTestEnv, sampleRecord } from './audit-fixtures.ts';

const env = auditTestEnv('tg-audit-trail-');

async function refusals(tenant: string): Promise<number> {
  const m = await registry.getSingleMetric('tenantgate_audit_refusals_total')!.get();
  return m.values.filter((v) => v.labels.tenant === tenant).reduce((n, v) => n + v.value, 0);
}

describe('audit trail', () => {
  it('sqlite: spooled when record() resolves, then stored; file and metrics too; prunes', async () => {
    const filePath = join(env.dir, 'admission.jsonl');
    const trail = await openAuditTrail({
      store: { backend: 'sqlite', path: join(env.dir, 'audit.db') },
      filePath,
    });
    try {
      const before = await refusals('sqlite-t');
      const old = new Date(Date.now() - 40 * 86_400_000).toISOString();
      await Promise.all([
        trail.record(sampleRecord({ uid: 's1', tenant: 'sqlite-t', time: new Date().toISOString() })),
        trail.record(sampleRecord({ uid: 's2', tenant: 'sqlite-t', time: old })),
      ]);
      expect(await trail.spool!.drain(10_000)).toBe(0);
      expect((await trail.store!.query({ tenant: 'sqlite-t' })).items.map((r) => r.uid).sort()).toEqual([
        's1',
        's2',
      ]);
      expect(await refusals('sqlite-t')).toBe(before + 2);
      expect(readFileSync(filePath, 'utf8').trim().split('\n')).toHaveLength(2);
      // retention: 90 days by default keeps both; 30 days drops the old one
      expect(await trail.prune()).toBe(0);
    } finally {
      await trail.close();
    }
    const again = await openAuditTrail({
      store: { backend: 'sqlite', path: join(env.dir, 'audit.db') },
      retention: { maxAgeMs: 30 * 86_400_000 },
    });
    try {
      expect(await again.prune()).toBe(1);
      expect((await again.store!.query({ tenant: 'sqlite-t' })).items.map((r) => r.uid)).toEqual(['s1']);
    } finally {
      await again.close();
    }
  });

  it('postgres: spooled when record() resolves, in PostgreSQL once shipped', async () => {
    const trail = await openAuditTrail({
      store: {
        backend: 'postgres',
        dsn: await env.pg.createDatabase('trail'),
        spoolPath: join(env.dir, 'spool'),
      },
    });
    try {
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => trail.record(sampleRecord({ uid: `p${i}`, tenant: 'pg-t' }))),
      );
      expect(await trail.spool!.drain(10_000)).toBe(0);
      expect((await trail.store!.query({ tenant: 'pg-t', limit: 100 })).items).toHaveLength(30);
    } finally {
      await trail.close();
    }
  });
});
