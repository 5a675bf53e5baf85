// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics and defaults:
// lease duration 15 s, renew deadline 10 s, retry period 2 s.
//
//   const elector = new LeaderElector({ client, namespace: 'tenantgate-system', name: 'tenantgate-operator',
//     onStartedLeading: (signal) => startWorkers(signal), onStoppedLeading: () => stopWorkers() });
//   elector.start();
//   ...
//   await elector.stop();   // stops leading (awaits onStoppedLeading) and releases the Lease
//
// - A candidate tries every retry period (jittered). It takes the Lease when nobody holds it, or when the
//   holder's record has not changed for the lease duration *as observed by this candidate's own clock*
//   (clock skew between machines cannot make two leaders; it is why a killed leader is replaced between
//   15 and ~19 s later).
// - The leader renews every retry period; if it cannot renew for the renew deadline it stops leading
//   (onStoppedLeading, the signal given to onStartedLeading aborts) and becomes a candidate again.
// - stop() releases the Lease (empty holder, 1 s duration) so a standby takes over within one retry period.
// - Writes use resourceVersion preconditions: two candidates racing for one Lease cannot both win.
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { Gauge } from 'prom-client';
import { sleep, withJitter } from '../lib/async.ts';
import type { Logger } from '../lib/logger.ts';
import { componentLogger } from '../lib/logger.ts';
import { defineError, errorMessage } from '../lib/errors.ts';
import { registry } from '../lib/metrics.ts';
import { createObject, replaceObject } from './apply.ts';
import { isConflict, type KubeClient } from './client.ts';
import { microTime } from './events.ts';

export const LeaderElectionTimingError = defineError(
  'TG_LEADER_ELECTION_TIMING',
  'leader election on Lease %s: %s (%s ms) must be shorter than %s (%s ms); lower the first or raise the second',
);
import { KINDS } from './resources.ts';
import type { ObjectMeta } from './types.ts';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string; namespace: string };
  spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  /** unique per process; default "<hostname>_<random>" */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** called when this process becomes the leader; `signal` aborts when it stops being it */
  onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** called (and awaited) when this process stops leading: lost the Lease, or stop() */
  onStoppedLeading: () => void | Promise<void>;
  /** any change of holder, including to this process */
  onNewLeader?: (identity: string) => void;
  logger?: Logger;
}

const isLeaderGauge = new Gauge({
  name: 'tenantgate_leader_election_is_leader',
  help: '1 while this process holds the leader Lease',
  labelNames: ['lease'] as const,
  registers: [registry],
});

export class LeaderElector {
  readonly identity: string;
  readonly #o: Required<
    Pick<LeaderElectionOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'>
  > &
    LeaderElectionOptions;
  readonly #log: Logger;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #leading = false;
  #leaderAbort: AbortController | undefined;
  #observed: { rv: string; at: number; holder: string } | undefined;
  #lastLeader = '';

  constructor(options: LeaderElectionOptions) {
    this.identity = options.identity ?? `${os.hostname()}_${randomBytes(4).toString('hex')}`;
    this.#o = {
      ...options,
      leaseDurationMs: options.leaseDurationMs ?? 15_000,
      renewDeadlineMs: options.renewDeadlineMs ?? 10_000,
      retryPeriodMs: options.retryPeriodMs ?? 2_000,
    };
    const lease = `${options.namespace}/${options.name}`;
    if (this.#o.renewDeadlineMs >= this.#o.leaseDurationMs)
      throw new LeaderElectionTimingError([
        lease,
        'renewDeadlineMs',
        this.#o.renewDeadlineMs,
        'leaseDurationMs',
        this.#o.leaseDurationMs,
      ]);
    if (this.#o.retryPeriodMs >= this.#o.renewDeadlineMs)
      throw new LeaderElectionTimingError([
        lease,
        'retryPeriodMs',
        this.#o.retryPeriodMs,
        'renewDeadlineMs',
        this.#o.renewDeadlineMs,
      ]);
    this.#log =
      options.logger ?? componentLogger('leader-election', { lease: `${options.namespace}/${options.name}` });
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  isLeader(): boolean {
    return this.#leading;
  }

  /** The holder this process saw last ('' when none). */
  get leader(): string {
    return this.#lastLeader;
  }

  /** Stops leading (if it was) and releases the Lease. */
  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  async #run(): Promise<void> {
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      if (!(await this.#tryAcquireOrRenew(stop))) {
        // one-sided jitter, as client-go's candidates: between 1 and 1.2 retry periods
        await sleep(this.#o.retryPeriodMs + withJitter(this.#o.retryPeriodMs * 0.1, 1), stop);
        continue;
      }
      await this.#lead(stop);
    }
  }

  async #lead(stop: AbortSignal): Promise<void> {
    this.#leading = true;
    isLeaderGauge.set({ lease: this.#o.name }, 1);
    this.#leaderAbort = new AbortController();
    this.#log.info('became the leader', { identity: this.identity });
    const started = Promise.resolve()
      .then(() => this.#o.onStartedLeading(this.#leaderAbort!.signal))
      .catch((err: unknown) => this.#log.error('onStartedLeading failed', { error: errorMessage(err) }));
    let lastRenew = Date.now();
    while (!stop.aborted) {
      await sleep(this.#o.retryPeriodMs, stop);
      if (stop.aborted) break;
      const left = this.#o.renewDeadlineMs - (Date.now() - lastRenew);
      const attempt = AbortSignal.any([stop, AbortSignal.timeout(Math.max(left, 500))]);
      if (await this.#tryAcquireOrRenew(attempt)) {
        lastRenew = Date.now();
      } else if (Date.now() - lastRenew >= this.#o.renewDeadlineMs) {
        this.#log.warn('lost the lease: could not renew it within the renew deadline', {
          identity: this.identity,
        });
        break;
      }
    }
    this.#leading = false;
    isLeaderGauge.set({ lease: this.#o.name }, 0);
    this.#leaderAbort.abort();
    await started;
    try {
      await this.#o.onStoppedLeading();
    } catch (err) {
      this.#log.error('onStoppedLeading failed', { error: errorMessage(err) });
    }
    if (stop.aborted) await this.#release();
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { client, namespace, name } = this.#o;
    const now = new Date();
    try {
      const lease = await client.get<Lease>(KINDS.Lease, { namespace, name }, signal);
      if (!lease) {
        const created = await createObject<Lease>(
          client,
          this.#lease({ namespace, name }, this.#record(now, undefined)),
          { signal },
        );
        this.#observe(created, now);
        return true;
      }
      this.#observe(lease, now);
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      const durationMs = (spec.leaseDurationSeconds ?? this.#o.leaseDurationMs / 1000) * 1000;
      if (holder && holder !== this.identity && this.#observed!.at + durationMs > now.getTime()) return false;
      const updated = await replaceObject<Lease>(
        client,
        this.#lease(lease.metadata, this.#record(now, spec)),
        { signal },
      );
      this.#observe(updated, now);
      return true;
    } catch (err) {
      if (!isConflict(err) && !signal.aborted)
        this.#log.warn('lease request failed', { error: errorMessage(err) });
      return false;
    }
  }

  #record(now: Date, previous: LeaseSpec | undefined): LeaseSpec {
    const mine = previous?.holderIdentity === this.identity;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.round(this.#o.leaseDurationMs / 1000),
      acquireTime: mine && previous?.acquireTime ? previous.acquireTime : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: previous ? (previous.leaseTransitions ?? 0) + (mine ? 0 : 1) : 0,
    };
  }

  #lease(meta: ObjectMeta, spec: LeaseSpec): Lease {
    return {
      apiVersion: KINDS.Lease.apiVersion,
      kind: KINDS.Lease.kind,
      metadata: { name: meta.name!, namespace: meta.namespace!, resourceVersion: meta.resourceVersion },
      spec,
    };
  }

  /** Remembers when this process first saw the current version of the record (its own clock). */
  #observe(lease: Lease, now: Date): void {
    const rv = lease.metadata.resourceVersion ?? '';
    if (this.#observed?.rv === rv) return;
    const holder = lease.spec?.holderIdentity ?? '';
    this.#observed = { rv, at: now.getTime(), holder };
    if (holder !== this.#lastLeader) {
      this.#lastLeader = holder;
      if (holder) this.#o.onNewLeader?.(holder);
    }
  }

  /** Gives the Lease up so that a standby need not wait for it to expire. */
  async #release(): Promise<void> {
    const { client, namespace, name } = this.#o;
    try {
      const lease = await client.get<Lease>(KINDS.Lease, { namespace, name }, AbortSignal.timeout(5_000));
      if (!lease || lease.spec?.holderIdentity !== this.identity) return;
      const now = microTime(new Date());
      await replaceObject(
        client,
        this.#lease(lease.metadata, {
          ...lease.spec,
          holderIdentity: '',
          leaseDurationSeconds: 1,
          renewTime: now,
        }),
        {
          signal: AbortSignal.timeout(5_000),
        },
      );
      this.#log.info('released the lease', { identity: this.identity });
    } catch (err) {
      this.#log.warn('could not release the lease; it will expire', { error: errorMessage(err) });
    }
  }
}
