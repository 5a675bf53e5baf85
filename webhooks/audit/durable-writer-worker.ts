// The durable writer's thread (durable-writer.ts): owns the SQLite file's write connection, commits
// appends in groups (every append that arrived while the previous commit was fsyncing goes into the next
// transaction: one fsync for all of them), and answers each request once its commit is durable.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { parentPort, workerData } from 'node:worker_threads';
import type { AuditRecord } from '../audit-log.ts';
import { SqliteAuditStore } from './sqlite-store.ts';
import type { Retention } from './store.ts';

export interface WriterConfig {
  mode: 'store' | 'spool';
  path: string;
  synchronous: 'FULL' | 'NORMAL';
  replica?: string;
}

export type WriterRequest =
  | { id: number; op: 'append'; record: AuditRecord }
  | { id: number; op: 'delete'; upTo: number }
  | { id: number; op: 'read'; limit: number }
  | { id: number; op: 'count' }
  | { id: number; op: 'prune'; retention: Retention; now: number };

export type SpooledRow = { seq: number; record: string };
export type WriterReply =
  { id: number; ok: true; result: number | SpooledRow[] } | { id: number; ok: false; error: string };

const config = workerData as WriterConfig;
const port = parentPort!;

let append: (records: AuditRecord[]) => void;
let remove: (upTo: number) => number = () => 0;
let read: (limit: number) => SpooledRow[] = () => [];
let count: () => number = () => 0;
let prune: (retention: Retention, now: number) => Promise<number> = async () => 0;

if (config.mode === 'store') {
  const store = new SqliteAuditStore({
    path: config.path,
    replica: config.replica,
    synchronous: config.synchronous,
  });
  store.migrateSync();
  append = (records) => void store.insertSync(records);
  prune = (retention, now) => store.prune(retention, new Date(now));
} else {
  mkdirSync(dirname(config.path), { recursive: true });
  const db = new DatabaseSync(config.path);
  db.exec(`PRAGMA journal_mode = WAL; PRAGMA synchronous = ${config.synchronous}; PRAGMA busy_timeout = 5000;
    CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL);`);
  const insert = db.prepare('INSERT INTO spool (record) VALUES (?)');
  const del = db.prepare('DELETE FROM spool WHERE seq <= ?');
  append = (records) => {
    db.exec('BEGIN IMMEDIATE');
    try {
      for (const r of records) insert.run(JSON.stringify(r));
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  };
  remove = (upTo) => Number(del.run(upTo).changes);
  // the spool is read here too: a second connection on the event loop's thread would wait (and block it)
  // whenever a commit here holds the WAL index
  const select = db.prepare('SELECT seq, record FROM spool ORDER BY seq LIMIT ?');
  read = (limit) => select.all(limit) as SpooledRow[];
  const countAll = db.prepare('SELECT COUNT(*) AS n FROM spool');
  count = () => Number((countAll.get() as { n: number }).n);
}

const queue: WriterRequest[] = [];
let scheduled = false;

port.on('message', (req: WriterRequest) => {
  queue.push(req);
  if (!scheduled) {
    scheduled = true;
    setImmediate(() => void drain());
  }
});

async function drain(): Promise<void> {
  while (queue.length) {
    const req = queue[0]!;
    if (req.op === 'append') {
      // one transaction, one fsync, for every append queued meanwhile
      let n = 0;
      while (n < queue.length && queue[n]!.op === 'append') n++;
      const group = queue.splice(0, n) as Extract<WriterRequest, { op: 'append' }>[];
      try {
        append(group.map((g) => g.record));
        for (const g of group) reply({ id: g.id, ok: true, result: 1 });
      } catch (err) {
        for (const g of group) reply({ id: g.id, ok: false, error: (err as Error).message });
      }
      continue;
    }
    queue.shift();
    try {
      reply({
        id: req.id,
        ok: true,
        result:
          req.op === 'delete'
            ? remove(req.upTo)
            : req.op === 'read'
              ? read(req.limit)
              : req.op === 'count'
                ? count()
                : await prune(req.retention, req.now),
      });
    } catch (err) {
      reply({ id: req.id, ok: false, error: (err as Error).message });
    }
  }
  scheduled = false;
}

function reply(r: WriterReply): void {
  port.postMessage(r);
}
