// Audit store queries over 1,000,000 records, on both backends (a SQLite file; a real PostgreSQL server):
// one tenant's last 24 hours (the first page, 100 records, as the API and page ask), a tenant auditor's
// namespace over 24 hours, and the per-policy chart for one tenant over 24 hours. The records are
// generated inside each database (1,000,000 over 30 days, 200 tenants: ~170 per tenant per day).
// Target (issue 10): a tenant + 24 h query <= 100 ms on both.
//
// Run: node_modules/.bin/node bench/audit/query.ts [--records 1000000] [--queries 50]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { PostgresAuditStore } from '../../webhooks/audit/postgres-store.ts';
import { SqliteAuditStore } from '../../webhooks/audit/sqlite-store.ts';
import type { AuditQuery, AuditStore } from '../../webhooks/audit/store.ts';
import { startPostgres } from '../../test/env/postgres.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '1000000' },
    queries: { type: 'string', default: '50' },
  },
});
const N = Number(values.records);
const TENANTS = 200;
const DAY = 86_400_000;
const now = Date.now();
const step = Math.floor((30 * DAY) / N); // ms between records: N over 30 days

// one JSON record, as the webhook stores it, built by the database (SQL dialects differ only in names)
const recordSql = (json: string, iso: string, concat: (...p: string[]) => string) => `${json}(
  'time', ${iso}, 'uid', ${concat("'bench-'", 'g')}, 'dryRun', false, 'user', ${concat("'user-'", 'g % 1000')},
  'groups', ${json.replace('object', 'array')}('system:authenticated'), 'operation', 'CREATE', 'kind', 'HTTPRoute',
  'apiVersion', 'gateway.networking.k8s.io/v1', 'namespace', ${concat("'t'", `g % ${TENANTS}`, "'-web'")},
  'name', ${concat("'route-'", 'g')}, 'tenant', ${concat("'t'", `g % ${TENANTS}`)},
  'action', 'deny', 'allowed', false,
  'violations', ${json.replace('object', 'array')}(${json}('policy', 'route-hostnames', 'action', 'deny', 'bundle', 'builtin',
     'message', 'spec.hostnames[0] ''shop.example.org'' is not among the tenant''s hostnames — use a hostname the tenant lists')))`;

const columns = `uid, time_ms, tenant, namespace, user_name, kind, operation, action, dry_run, record, replica`;

async function fillSqlite(path: string): Promise<void> {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;');
  const cat = (...p: string[]) => p.join(' || ');
  const t = `(${now} - g * ${step})`;
  db.exec(`BEGIN;
    WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < ${N})
    INSERT INTO audit_records (${columns})
    SELECT 'bench-' || g, ${t}, 't' || (g % ${TENANTS}), 't' || (g % ${TENANTS}) || '-web', 'user-' || (g % 1000),
           'HTTPRoute', 'CREATE', 'deny', 0,
           ${recordSql('json_object', `strftime('%Y-%m-%dT%H:%M:%fZ', ${t} / 1000.0, 'unixepoch')`, cat)}, 'bench'
    FROM s;
    INSERT INTO audit_violations (record_id, policy, action) SELECT id, 'route-hostnames', 'deny' FROM audit_records;
    COMMIT; ANALYZE;`);
  db.close();
}

async function fillPostgres(dsn: string): Promise<void> {
  const c = new pg.Client({ connectionString: dsn });
  c.on('error', () => {}); // the server stopping at the end is no news
  await c.connect();
  const cat = (...p: string[]) => p.map((x) => (/^'/.test(x) ? x : `(${x})::text`)).join(' || ');
  const t = `(${now}::bigint - g::bigint * ${step})`;
  await c.query(`INSERT INTO audit_records (${columns})
    SELECT 'bench-' || g, ${t}, 't' || (g % ${TENANTS}), 't' || (g % ${TENANTS}) || '-web', 'user-' || (g % 1000),
           'HTTPRoute', 'CREATE', 'deny', false,
           ${recordSql('jsonb_build_object', `to_char(to_timestamp(${t} / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`, cat)}, 'bench'
    FROM generate_series(1, ${N}) g`);
  await c.query(
    `INSERT INTO audit_violations (record_id, policy, action) SELECT id, 'route-hostnames', 'deny' FROM audit_records`,
  );
  try {
    await c.query('VACUUM ANALYZE');
  } finally {
    await c.end();
  }
}

interface Stat {
  p50: number;
  p99: number;
  rows: number;
}

async function time(fn: (i: number) => Promise<number>, n: number): Promise<Stat> {
  for (let i = 0; i < 5; i++) await fn(i); // warm-up (plans, caches)
  const ms: number[] = [];
  let rows = 0;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    rows += await fn(i);
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(n / 2)]!, p99: ms[Math.min(n - 1, Math.floor(n * 0.99))]!, rows: rows / n };
}

async function measure(store: AuditStore): Promise<Record<string, Stat>> {
  const n = Number(values.queries);
  const day = (i: number): AuditQuery => ({
    since: new Date(now - ((i % 29) + 1) * DAY),
    until: new Date(now - (i % 29) * DAY),
  });
  const tenant = (i: number) => `t${(i * 37) % TENANTS}`;
  return {
    'tenant + 24 h, first page of 100': await time(
      async (i) => (await store.query({ tenant: tenant(i), ...day(i), limit: 100 })).items.length,
      n,
    ),
    'tenant auditor: namespace + 24 h': await time(
      async (i) =>
        (await store.query({ onlyNamespaces: [`${tenant(i)}-web`], ...day(i), limit: 100 })).items.length,
      n,
    ),
    'chart: tenant + 24 h by policy, hourly': await time(
      async (i) =>
        (await store.histogram({ tenant: tenant(i), ...day(i) }, { bucketMs: 3_600_000, by: 'policy' }))
          .length,
      n,
    ),
    'everything, newest page of 100': await time(
      async () => (await store.query({ limit: 100 })).items.length,
      n,
    ),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'tg-bench-audit-query-'));
const lines = [
  `audit store queries over ${N.toLocaleString('en')} records (${TENANTS} tenants, 30 days), ${values.queries} queries each`,
];
try {
  const sqlitePath = join(dir, 'audit.db');
  const sqlite = new SqliteAuditStore({ path: sqlitePath });
  await sqlite.migrate();
  let t = performance.now();
  await fillSqlite(sqlitePath);
  lines.push(`sqlite: filled in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const sqliteStats = await measure(sqlite);
  await sqlite.close();

  const server = await startPostgres({ fsync: true });
  try {
    const postgres = new PostgresAuditStore({ dsn: server.dsn });
    await postgres.migrate();
    t = performance.now();
    await fillPostgres(server.dsn);
    lines.push(`postgres: filled in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const pgStats = await measure(postgres);
    await postgres.close();
    for (const [name, s] of Object.entries(sqliteStats)) {
      const p = pgStats[name]!;
      const target = name.startsWith('tenant + 24 h')
        ? `   target <= 100 ms: sqlite ${s.p99 <= 100 ? 'met' : 'MISSED'}, postgres ${p.p99 <= 100 ? 'met' : 'MISSED'}`
        : '';
      lines.push(
        `${name.padEnd(40)} sqlite p50 ${s.p50.toFixed(1)} ms p99 ${s.p99.toFixed(1)} ms | postgres p50 ${p.p50.toFixed(1)} ms p99 ${p.p99.toFixed(1)} ms | ${s.rows.toFixed(0)} rows${target}`,
      );
    }
  } finally {
    await server.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(lines.join('\n') + '\n');
