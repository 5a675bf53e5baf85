// The spool in front of the audit store (a real PostgreSQL server; SQLite files): records appended are
// loaded in batches (into PostgreSQL in short statements) and their segments deleted; records appended while the database is unreachable stay
// on disk and load once it is back, none twice; a spool a crashed process left behind — with a write
// torn mid-line and a line whose bytes were damaged — loads every whole, intact line on the next start,
// skips the rest (and the zeros of its preallocated size), and is never written to.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../lib/logger.ts';
import { registry } from '../../lib/metrics.ts';
import { PostgresAuditStore } from '../../webhooks/audit/postgres-store.ts';
import { SqliteAuditStore } from '../../webhooks/audit/sqlite-store.ts';
import { AuditSpool, POSTGRES_STATEMENT_BYTES } from '../../webhooks/audit/spool.ts';
import { freePortOutsideEphemeralRange } from '../env/server-process.ts';
import { auditTestEnv, sampleRecord } from './audit-fixtures.ts';
import { eventually } from './proxy-harness.ts';

const env = auditTestEnv('tg-audit-spool-');

const records = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) =>
    sampleRecord({ uid: `${prefix}-${i}`, time: new Date(Date.UTC(2026, 2, 1, 0, i)).toISOString() }),
  );

async function count(store: PostgresAuditStore | SqliteAuditStore, uidPrefix: string): Promise<number> {
  const page = await store.query({ limit: 1000 });
  return page.items.filter((r) => r.uid.startsWith(uidPrefix)).length;
}

async function spoolDepthMetric(): Promise<number> {
  return (await registry.getSingleMetric('tenantgate_audit_spool_depth')!.get()).values[0]!.value;
}

const segments = (dir: string) =>
  existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.spool')) : [];

/** a spool line as the webhook writes it */
const line = (json: string) => `${crc32(json).toString(16).padStart(8, '0')}\t${json}\n`;

describe('audit spool', () => {
  it('loads what it spooled into PostgreSQL, in batches over several segments, and deletes them', async () => {
    const dsn = await env.pg.createDatabase('spool_a');
    const store = new PostgresAuditStore({ dsn });
    await store.migrate();
    const dir = join(env.dir, 'a');
    // small segments and batches: several of each
    const spool = new AuditSpool({
      dir,
      store: { backend: 'postgres', dsn },
      segmentBytes: 4096,
      batchBytes: 2048,
    });
    try {
      // ten at a time, concurrently: each ten share writes (group commit) and pass a segment's size
      const all = records('a', 50);
      for (let i = 0; i < 50; i += 10)
        await Promise.all(all.slice(i, i + 10).map((r) => spool.append(JSON.stringify(r))));
      expect(spool.segment).toBeGreaterThan(3);
      expect(await spool.drain(10_000)).toBe(0);
      expect(await count(store, 'a-')).toBe(50);
      expect(await spoolDepthMetric()).toBe(0);
    } finally {
      await spool.close();
      await store.close();
    }
    expect(segments(dir)).toEqual([]); // every segment loaded, the last one too at close
  });

  it('loads into PostgreSQL in short statements, one transaction each, never one per batch', async () => {
    // the server works on a statement at normal priority, holding a core until it is done: a batch's
    // worth is split so that it never holds one long (spool.ts, POSTGRES_STATEMENT_BYTES)
    const dsn = await env.pg.createDatabase('spool_e');
    const store = new PostgresAuditStore({ dsn });
    await store.migrate();
    const dir = join(env.dir, 'e');
    const spool = new AuditSpool({ dir, store: { backend: 'postgres', dsn } }); // the defaults
    const all = records('e', 200).map((r) => JSON.stringify(r));
    const lineBytes = new Map(all.map((json, i) => [`e-${i}`, Buffer.byteLength(line(json))]));
    const total = [...lineBytes.values()].reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(4 * POSTGRES_STATEMENT_BYTES); // all of it one batch (< 256 KiB), spooled at once
    const c = new pg.Client({ connectionString: dsn });
    await c.connect();
    try {
      await Promise.all(all.map((json) => spool.append(json)));
      expect(await spool.drain(10_000)).toBe(0);
      // rows a transaction inserted share its id (xmin)
      const rows = (
        await c.query<{ tx: string; uid: string }>(
          `SELECT xmin::text AS tx, uid FROM audit_records WHERE uid LIKE 'e-%'`,
        )
      ).rows;
      expect(rows.length).toBe(200);
      const bytesByTx = new Map<string, number>();
      for (const r of rows) bytesByTx.set(r.tx, (bytesByTx.get(r.tx) ?? 0) + lineBytes.get(r.uid)!);
      expect(Math.max(...bytesByTx.values())).toBeLessThanOrEqual(POSTGRES_STATEMENT_BYTES);
      expect(bytesByTx.size).toBeGreaterThanOrEqual(Math.ceil(total / POSTGRES_STATEMENT_BYTES));
    } finally {
      await c.end();
      await spool.close();
      await store.close();
    }
  });

  it('keeps records while the database is unreachable, and the next start loads them, none twice', async () => {
    const dsn = await env.pg.createDatabase('spool_b');
    const good = new PostgresAuditStore({ dsn });
    await good.migrate();
    // a batch that was committed to the store, but whose segment was not deleted (a crash in between)
    await good.insert(records('b', 5));
    const dir = join(env.dir, 'b');
    const down = `postgres://tenantgate@127.0.0.1:${await freePortOutsideEphemeralRange()}/x`;
    const first = new AuditSpool({ dir, store: { backend: 'postgres', dsn: down }, retryMs: 20 });
    await Promise.all(records('b', 20).map((r) => first.append(JSON.stringify(r))));
    // loading fails (nothing listens); the records stay spooled
    expect(await first.drain(300)).toBe(20);
    expect(await spoolDepthMetric()).toBe(20);
    await first.close();
    expect(segments(dir)).toHaveLength(1);

    const second = new AuditSpool({ dir, store: { backend: 'postgres', dsn } });
    try {
      expect(second.depth).toBe(20);
      expect(await second.drain(10_000)).toBe(0);
      expect(await count(good, 'b-')).toBe(20);
      expect(await good.insert(records('b', 20))).toBe(0);
    } finally {
      await second.close();
      await good.close();
    }
    expect(segments(dir)).toEqual([]);
  });

  it('after a crash: loads whole intact lines, skips a damaged line and a torn tail, appends to a new segment', async () => {
    const path = join(env.dir, 'c.db');
    const store = new SqliteAuditStore({ path });
    await store.migrate();
    const dir = join(env.dir, 'c.spool');
    mkdirSync(dir);
    const [a, b, c, d] = records('c', 4).map((r) => JSON.stringify(r));
    const damaged = line(b!).replace('"alice"', '"alicf"'); // same length, checksum no longer matches
    const torn = line(d!).slice(0, 60); // the crash cut this write short: never answered
    const left = join(dir, '000000000007.spool');
    // and then the zeros a preallocated segment holds past its data
    writeFileSync(
      left,
      Buffer.concat([Buffer.from(line(a!) + damaged + line(c!) + torn), Buffer.alloc(5000)]),
    );
    const spool = new AuditSpool({ dir, store: { backend: 'sqlite', path } });
    try {
      expect(spool.depth).toBe(3); // whole lines, the damaged one included until it is looked at
      // the one left, and this run's own (the next one preallocated too)
      expect(segments(dir).slice(0, 2)).toEqual(['000000000007.spool', '000000000008.spool']);
      await spool.append(JSON.stringify(sampleRecord({ uid: 'c-new' })));
      expect(readFileSync(left, 'utf8').endsWith(torn + '\0'.repeat(5000))).toBe(true); // never written to
      expect(await spool.drain(10_000)).toBe(0);
      expect((await store.query({ limit: 100 })).items.map((r) => r.uid).sort()).toEqual([
        'c-0',
        'c-2',
        'c-new',
      ]);
    } finally {
      await spool.close();
      await store.close();
    }
    expect(segments(dir)).toEqual([]);
  });

  it('a loader restarted after it died loads every segment, through a rotation into the one prepared ahead', async () => {
    const dir = join(env.dir, 'f.spool');
    const path = join(env.dir, 'f.db');
    mkdirSync(path); // a directory where the SQLite file should be: the loader dies at start, and is restarted
    const logged: string[] = [];
    const log = (message: string) => void logged.push(message);
    const logger = { error: log, warn: log, info: log, debug: log } as unknown as Logger;
    const spool = new AuditSpool({ dir, store: { backend: 'sqlite', path }, segmentBytes: 8 * 1024, logger });
    let reader: SqliteAuditStore | undefined;
    try {
      const first = records('f1', 2);
      await Promise.all(first.map((r) => spool.append(JSON.stringify(r))));
      await eventually(() => logged.some((m) => m.startsWith('audit spool loader exited')));
      // the store becomes openable: the restart that follows succeeds and loads segment 1
      rmSync(path, { recursive: true });
      reader = new SqliteAuditStore({ path });
      await reader.migrate();
      const opened = reader;
      // the restarted loader stores segment 1 (restarts back off from 1 s, doubling)
      await eventually(async () => (await count(opened, 'f1-')) === 2, 20_000);
      // segment 1 filled (12 lines fit in it) and every line of it loaded
      for (const r of records('f2', 10)) await spool.append(JSON.stringify(r));
      expect(await spool.drain(10_000)).toBe(0);
      expect(spool.segment).toBe(1);
      // the next line rotates into the segment prepared ahead: the loader, with nothing left in segment 1,
      // goes on to segment 2 at once — which it must not take for an empty, sealed one and delete
      for (const r of records('f3', 3)) await spool.append(JSON.stringify(r));
      expect(spool.segment).toBe(2);
      expect(await spool.drain(5_000)).toBe(0);
      expect(await count(opened, 'f2-')).toBe(10);
      expect(await count(opened, 'f3-')).toBe(3);
    } finally {
      await spool.close();
      await reader?.close();
    }
  });

  it('a store that cannot be opened: answers stay durable, the loader retries, the next start loads them', async () => {
    const dir = join(env.dir, 'd.spool');
    const broken = join(env.dir, 'not-a-file');
    mkdirSync(broken); // a directory where the SQLite file should be: the loader cannot open it
    const first = new AuditSpool({ dir, store: { backend: 'sqlite', path: broken } });
    await Promise.all(records('d', 5).map((r) => first.append(JSON.stringify(r))));
    expect(await first.drain(300)).toBe(5);
    await first.close(); // does not wait for a loader that is not there
    const path = join(env.dir, 'd.db');
    const store = new SqliteAuditStore({ path });
    await store.migrate();
    const second = new AuditSpool({ dir, store: { backend: 'sqlite', path } });
    try {
      expect(await second.drain(10_000)).toBe(0);
      expect(await count(store, 'd-')).toBe(5);
    } finally {
      await second.close();
      await store.close();
    }
  });
});
