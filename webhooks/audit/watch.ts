// `GET /audit/v1/records?watch=true`: new records as they are stored, streamed as JSON lines
// (application/x-ndjson), one event per line:
//
//   {"type":"ADDED","object":{...the record, with its id}}
//   {"type":"BOOKMARK","afterId":1234}     where to resume (afterId=1234); also the heartbeat
//
// The stream starts after `afterId` (the list's metadata.latestId, so nothing stored between the list and
// the watch is missed) or, without it, after the newest record. The server polls the store every
// `pollMs` by id — an indexed range read of what is new — rather than hearing about writes: records
// another replica loaded into PostgreSQL reach this replica's watchers the same way as its own, and
// SQLite works the same (docs/audit.md says why not LISTEN/NOTIFY). Ids become visible in id order
// (store.ts latestId), so a poll that read up to id N never sees a smaller one later.
//
// A BOOKMARK goes out when nothing else did for `heartbeatMs`, so proxies and idle timeouts keep the
// connection; the stream ends after `timeoutMs` (the client reconnects from its cursor, and is
// authorised again) and when the server shuts down.
import type { Request, Response } from 'express';
import type { Logger } from '../../lib/logger.ts';
import { auditWatchStreamsTotal } from './metrics.ts';
import type { AuditQuery, AuditStore, StoredAuditRecord } from './store.ts';

export interface WatchOptions {
  /** default 500 ms */
  pollMs?: number;
  /** default 15 s */
  heartbeatMs?: number;
  /** default 30 min */
  timeoutMs?: number;
}

export type WatchEvent = { type: 'ADDED'; object: StoredAuditRecord } | { type: 'BOOKMARK'; afterId: number };

const PAGE = 1000;

export class AuditWatches {
  readonly #store: AuditStore;
  readonly #log: Logger;
  readonly #pollMs: number;
  readonly #heartbeatMs: number;
  readonly #timeoutMs: number;
  /** every open stream's end */
  readonly #open = new Set<() => void>();

  constructor(store: AuditStore, log: Logger, options: WatchOptions = {}) {
    this.#store = store;
    this.#log = log;
    this.#pollMs = options.pollMs ?? 500;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#timeoutMs = options.timeoutMs ?? 30 * 60_000;
  }

  get open(): number {
    return this.#open.size;
  }

  /** Streams `query`'s new records (query is already authorised and scoped) until one side ends. */
  async serve(req: Request, res: Response, query: AuditQuery): Promise<void> {
    const { afterId, ...filters } = query;
    let cursor = afterId ?? (await this.#store.latestId());
    res.writeHead(200, {
      'content-type': 'application/x-ndjson; charset=utf-8',
      'x-accel-buffering': 'no', // nginx-style proxies: pass each line on, do not buffer
    });
    auditWatchStreamsTotal.inc();
    let lastWrite = 0;
    const send = (event: WatchEvent): boolean => {
      lastWrite = Date.now();
      return res.write(JSON.stringify(event) + '\n');
    };
    send({ type: 'BOOKMARK', afterId: cursor });

    let ended = false;
    let timer: NodeJS.Timeout | undefined;
    const end = () => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      clearTimeout(deadline);
      this.#open.delete(end);
      if (!res.writableEnded) res.end();
    };
    this.#open.add(end);
    req.on('close', end);
    res.on('close', end);
    const deadline = setTimeout(end, this.#timeoutMs);

    const poll = async () => {
      try {
        // up to the newest id now: records stored meanwhile are the next poll's
        const latest = await this.#store.latestId();
        while (!ended && latest > cursor) {
          const page = await this.#store.query({
            ...filters,
            afterId: cursor,
            throughId: latest,
            limit: PAGE,
          });
          let writable = true;
          for (const item of page.items) writable = send({ type: 'ADDED', object: item });
          cursor = page.items.length < PAGE ? latest : page.items.at(-1)!.id;
          // a slow reader: wait until it took what was sent
          if (!writable && !ended) await new Promise((resolve) => res.once('drain', resolve));
        }
        if (!ended && Date.now() - lastWrite >= this.#heartbeatMs)
          send({ type: 'BOOKMARK', afterId: cursor });
      } catch (err) {
        // the store is unreachable: the stream stays, the next poll tries again
        this.#log.warn('audit watch poll failed; retrying', { err });
      }
      if (!ended) timer = setTimeout(() => void poll(), this.#pollMs);
    };
    await poll();
  }

  /** Ends every stream (server shutdown): each client sees a clean end and reconnects from its cursor. */
  closeAll(): void {
    for (const end of [...this.#open]) end();
  }
}
