// Watch streams over a real SQLite store and a real HTTP server: records stored after the cursor arrive in
// id order, filters apply, heartbeats carry the cursor, and a server shutdown ends every stream cleanly
// (the client's body completes: it can tell a shutdown from a broken connection and resume).
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sampleRecord } from '../../test/e2e/audit-fixtures.ts';
import { componentLogger } from '../../lib/logger.ts';
import { SqliteAuditStore } from './sqlite-store.ts';
import { parseQuery } from './query-server.ts';
import { AuditWatches, type WatchEvent } from './watch.ts';

describe('audit watch streams', () => {
  let dir: string;
  let store: SqliteAuditStore;
  let watches: AuditWatches;
  let server: http.Server;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tg-audit-watch-'));
    store = new SqliteAuditStore({ path: join(dir, 'audit.db') });
    await store.migrate();
    watches = new AuditWatches(store, componentLogger('test'), { pollMs: 20, heartbeatMs: 100 });
    const app = express();
    app.get('/watch', (req, res) => void watches.serve(req, res, parseQuery(req.query)));
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/watch`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (query: string) => {
    const res = await request(`${base}${query}`);
    const events: WatchEvent[] = [];
    let buffered = '';
    const ended = (async () => {
      for await (const chunk of res.body) {
        buffered += (chunk as Buffer).toString();
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          events.push(JSON.parse(buffered.slice(0, nl)) as WatchEvent);
          buffered = buffered.slice(nl + 1);
        }
      }
      return buffered;
    })();
    return { res, events, ended };
  };
  const uids = (events: WatchEvent[]) => events.flatMap((e) => (e.type === 'ADDED' ? [e.object.uid] : []));

  it('streams what is stored after the cursor, filtered, with heartbeats, until the server shuts down', async () => {
    await store.insert([sampleRecord({ uid: 'before', tenant: 'acme' })]);
    const all = await open('');
    const acme = await open('?tenant=acme');
    expect(all.res.headers['content-type']).toContain('application/x-ndjson');
    await vi.waitFor(() => expect(all.events[0]).toEqual({ type: 'BOOKMARK', afterId: 1 }));
    await store.insert([
      sampleRecord({ uid: 'a1', tenant: 'acme' }),
      sampleRecord({ uid: 'g1', tenant: 'globex' }),
      sampleRecord({ uid: 'a2', tenant: 'acme' }),
    ]);
    await vi.waitFor(() => expect(uids(all.events)).toEqual(['a1', 'g1', 'a2']));
    await vi.waitFor(() => expect(uids(acme.events)).toEqual(['a1', 'a2']));
    // quiet: heartbeats, each with the cursor past everything (g1 included, though acme's stream skipped it)
    await vi.waitFor(() => expect(acme.events.at(-1)).toEqual({ type: 'BOOKMARK', afterId: 4 }));
    // from a cursor: only what came after it
    const resumed = await open('?afterId=2');
    await vi.waitFor(() => expect(uids(resumed.events)).toEqual(['g1', 'a2']));

    expect(watches.open).toBe(3);
    watches.closeAll();
    // each body completes (a clean end, nothing cut mid-line), and the server holds no stream
    for (const w of [all, acme, resumed]) expect(await w.ended).toBe('');
    expect(watches.open).toBe(0);
  });
});
