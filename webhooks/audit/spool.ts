// The local spool in front of a shared store (PostgreSQL). The webhook appends a record here and the
// append is fsync'd (SQLite WAL, synchronous=FULL) before the AdmissionReview answer leaves; a shipper
// then moves batches to the store in the background and deletes them from the spool only once the store
// has committed them. A crash anywhere in between ships the batch again on the next start: at-least-once
// delivery, made exactly-once in the store by the review uid (ON CONFLICT DO NOTHING).
//
// Why a spool rather than writing PostgreSQL before answering: admission then never waits on the network
// or on a database failover (the cluster's every write would), and batches amortise the round trips.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { componentLogger, type Logger } from '../../lib/logger.ts';
import type { AuditRecord } from '../audit-log.ts';
import { DurableWriter } from './durable-writer.ts';
import { auditSpoolDepth, auditStoreWriteSeconds } from './metrics.ts';
import type { AuditStore } from './store.ts';

export interface SpoolOptions {
  /** the spool file; one per replica (never shared) */
  path: string;
  store: AuditStore;
  /** records per shipment; default 500 */
  batchSize?: number;
  /** FULL (default): fsync each commit; NORMAL: survives a process crash, not a power loss */
  synchronous?: 'FULL' | 'NORMAL';
  /** how long an append waits for others before shipping; default 20 ms */
  lingerMs?: number;
  /** first retry delay after a failed shipment (doubling to 30 s); default 500 ms */
  retryMs?: number;
  logger?: Logger;
}

export class AuditSpool {
  readonly path: string;
  readonly #store: AuditStore;
  readonly #writer: DurableWriter;
  readonly #batchSize: number;
  readonly #log: Logger;
  readonly #retryMs: number;
  #depth: number;
  #shipping: Promise<void> | undefined;
  #again = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  readonly #lingerMs: number;
  #failures = 0;
  #closed = false;

  constructor(options: SpoolOptions) {
    this.path = options.path;
    mkdirSync(dirname(options.path), { recursive: true });
    // the writer thread owns the file: appends, reads what to ship, deletes what was shipped
    this.#writer = new DurableWriter({
      mode: 'spool',
      path: options.path,
      synchronous: options.synchronous ?? 'FULL',
    });
    this.#store = options.store;
    this.#batchSize = options.batchSize ?? 500;
    this.#retryMs = options.retryMs ?? 500;
    this.#lingerMs = options.lingerMs ?? 20;
    this.#log = options.logger ?? componentLogger('audit-spool');
    this.#depth = 0;
    // what a previous run spooled and did not ship goes first
    this.ready = this.#writer.count().then((n) => {
      this.#depth += n;
      auditSpoolDepth.set(this.#depth);
      if (n > 0) this.kick();
    });
  }

  /** resolves once the spool has counted what a previous run left */
  readonly ready: Promise<void>;

  get depth(): number {
    return this.#depth;
  }

  /** Appends durably (resolves once committed and fsync'd), then asks the shipper to run. */
  async append(record: AuditRecord): Promise<void> {
    const end = auditStoreWriteSeconds.startTimer({ backend: 'spool' });
    await this.#writer.append(record);
    end();
    auditSpoolDepth.set(++this.#depth);
    // a short linger gathers a batch: one PostgreSQL transaction and one spool delete for many records
    if (this.#depth >= this.#batchSize) this.kick();
    else
      this.#lingerTimer ??= setTimeout(() => {
        this.#lingerTimer = undefined;
        this.kick();
      }, this.#lingerMs);
  }

  /** Ships now (or right after the shipment in flight). */
  kick(): void {
    if (this.#closed || this.#retryTimer) return;
    if (this.#shipping) {
      this.#again = true;
      return;
    }
    this.#shipping = this.#shipAll()
      .catch((err: unknown) => {
        // the spool file itself failed (read or delete): records stay where they are; the next kick retries
        if (!this.#closed) this.#log.error('audit spool shipping failed', { err, spooled: this.#depth });
      })
      .finally(() => {
        this.#shipping = undefined;
        if (this.#again) {
          this.#again = false;
          this.kick();
        }
      });
  }

  /** Waits until the spool is empty or the time is up; resolves to what is left. */
  async drain(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    await this.ready; // what a previous run left counts too
    while (this.#depth > 0 && Date.now() < deadline) {
      if (this.#retryTimer) {
        clearTimeout(this.#retryTimer);
        this.#retryTimer = undefined;
      }
      this.kick();
      await (this.#shipping ?? new Promise((r) => setTimeout(r, 50)));
      if (this.#depth > 0) await new Promise((r) => setTimeout(r, 50));
    }
    return this.#depth;
  }

  /** Stops shipping (after the shipment in flight); what is spooled stays for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    if (this.#lingerTimer) clearTimeout(this.#lingerTimer);
    await this.#shipping;
    await this.#writer.close();
  }

  async #shipAll(): Promise<void> {
    while (!this.#closed) {
      const rows = await this.#writer.read(this.#batchSize);
      if (rows.length === 0) return;
      try {
        await this.#store.insert(rows.map((r) => JSON.parse(r.record) as AuditRecord));
      } catch (err) {
        const delay = Math.min(this.#retryMs * 2 ** this.#failures++, 30_000);
        this.#log.warn('shipping audit records to the store failed; they stay spooled and are retried', {
          err,
          spooled: this.#depth,
          retryInMs: delay,
        });
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined;
          this.kick();
        }, delay);
        this.#retryTimer.unref();
        return;
      }
      this.#failures = 0;
      const last = rows.at(-1)!.seq;
      await this.#writer.delete(last);
      this.#depth = Math.max(0, this.#depth - rows.length);
      auditSpoolDepth.set(this.#depth);
    }
  }
}
