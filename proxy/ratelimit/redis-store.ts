// Counters shared by every proxy replica, in Redis. One request is one EVALSHA (all of its counters,
// atomically, in one round trip); concurrent requests share the connection without waiting for each
// other's replies (Redis pipelining), and ioredis auto-pipelining can batch them further (option). If the script is missing (NOSCRIPT: a restarted or flushed Redis) it is loaded once and the call
// retried. When Redis cannot answer, the store does not queue or wait: it answers with the configured
// fail mode at once (open by default: allow, count it, log at most once per interval) and ioredis keeps
// reconnecting in the background.
import { Redis, type RedisOptions } from 'ioredis';
import { defineError, errorMessage } from '../../lib/errors.ts';
import { componentLogger } from '../../lib/logger.ts';
import { decodeReply, GCRA_LUA, GCRA_SHA, SCRIPT_EPOCH_S } from './redis-script.ts';
import { redisScriptLoadsTotal, storeUnavailableTotal, trackRedisStore } from './metrics.ts';
import type { ConsumeResult, CounterCheck, RateLimitStore } from './store.ts';
import { throttledLog, type ThrottledLog } from './throttled-log.ts';

export const RedisStoreUnavailableError = defineError(
  'TG_RATELIMIT_REDIS_UNAVAILABLE',
  'rate-limit store %s could not decide a request: %s',
);

export type FailMode = 'open' | 'closed';

export interface RedisStoreOptions {
  /** redis://[user:pass@]host:port[/db]; default redis://127.0.0.1:6379 */
  url?: string;
  /** extra ioredis options (TLS, auth, ...); the store overrides the queueing and retry ones */
  redisOptions?: RedisOptions;
  /** what to do when Redis cannot answer: 'open' (default) allows, 'closed' refuses with 503 */
  failMode?: FailMode;
  /** prefix of every key the store writes; default 'tenantgate:rl:' */
  keyPrefix?: string;
  /** a call slower than this counts as Redis being unavailable; default 250 ms */
  commandTimeoutMs?: number;
  /** reconnect backoff ceiling; default 2,000 ms (reconnection never gives up) */
  maxReconnectDelayMs?: number;
  /** label on the store's metrics and logs; default 'redis' */
  name?: string;
  /** tests only: ms since the Unix epoch; default the Redis server's clock (one clock for all replicas) */
  clock?: () => number;
  /** interval between "store unavailable" log lines; default 10,000 ms */
  logIntervalMs?: number;
  /**
   * ioredis auto-pipelining: calls made in one event-loop turn go out as one write, but a batch waits for
   * the previous one's replies. Off by default: on a low-latency link it measured slower (see
   * bench/ratelimit/micro.ts); turn it on when the Redis round trip is long compared with the request rate.
   */
  autoPipelining?: boolean;
}

export class RedisStore implements RateLimitStore {
  readonly kind = 'redis' as const;
  readonly failMode: FailMode;
  readonly redis: Redis;
  readonly name: string;
  private readonly untrack: () => void;
  private readonly prefix: string;
  private readonly clock: (() => number) | undefined;
  private readonly logUnavailable: ThrottledLog;
  private readonly log = componentLogger('ratelimit');
  private scriptLoad: Promise<unknown> | undefined;
  private readonly unavailableResult: ConsumeResult;

  constructor(options: RedisStoreOptions = {}) {
    this.failMode = options.failMode ?? 'open';
    this.name = options.name ?? 'redis';
    this.prefix = options.keyPrefix ?? 'tenantgate:rl:';
    this.clock = options.clock;
    this.unavailableResult = { kind: 'unavailable', allowed: this.failMode === 'open' };
    this.logUnavailable = throttledLog({
      logger: this.log,
      level: 'warn',
      intervalMs: options.logIntervalMs,
    });
    const maxDelay = options.maxReconnectDelayMs ?? 2_000;
    this.redis = new Redis(options.url ?? 'redis://127.0.0.1:6379', {
      ...options.redisOptions,
      // Never park a request behind a reconnect: fail fast and let the fail mode answer.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: options.commandTimeoutMs ?? 250,
      enableAutoPipelining: options.autoPipelining ?? false,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
    });
    this.untrack = trackRedisStore(this);
    this.watchConnection();
  }

  /** Ready and writable: ioredis reports a dead socket's 'close' only on a later event-loop turn. */
  get connected(): boolean {
    return (
      this.redis.status === 'ready' &&
      (this.redis.stream as { writable?: boolean } | undefined)?.writable === true
    );
  }

  /** Resolves once connected (or rejects after `timeoutMs`); requests before that get the fail mode. */
  async ready(timeoutMs = 10_000): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.redis.off('ready', onReady);
        reject(new RedisStoreUnavailableError([this.name, `not ready after ${timeoutMs} ms`]));
      }, timeoutMs);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.redis.once('ready', onReady);
    });
  }

  consume(checks: readonly CounterCheck[]): ConsumeResult | Promise<ConsumeResult> {
    if (this.redis.status !== 'ready') return this.unavailable(`connection ${this.redis.status}`);
    const args: (string | number)[] = [checks.length];
    for (const c of checks) args.push(this.prefix + c.key);
    args.push(this.clock ? String(this.clock() - SCRIPT_EPOCH_S * 1000) : '');
    for (const c of checks) args.push(c.limit.periodMs, c.limit.intervalMs);
    return this.run(args).then(
      (reply): ConsumeResult => ({ kind: 'decided', ...decodeReply(reply, checks.length) }),
      (err: unknown) => this.unavailable(errorMessage(err), err),
    );
  }

  async close(): Promise<void> {
    this.redis.disconnect(false);
    this.untrack();
  }

  private async run(args: (string | number)[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(GCRA_SHA, ...(args as [number, ...string[]]));
    } catch (err) {
      if (!errorMessage(err).includes('NOSCRIPT')) throw err;
      await this.loadScript();
      return await this.redis.evalsha(GCRA_SHA, ...(args as [number, ...string[]]));
    }
  }

  /** One SCRIPT LOAD however many requests hit NOSCRIPT at once. */
  private loadScript(): Promise<unknown> {
    this.scriptLoad ??= this.redis
      .script('LOAD', GCRA_LUA)
      .then(() => redisScriptLoadsTotal.labels(this.name).inc())
      .finally(() => {
        this.scriptLoad = undefined;
      });
    return this.scriptLoad;
  }

  private unavailable(reason: string, cause?: unknown): ConsumeResult {
    storeUnavailableTotal.labels(this.name, this.failMode).inc();
    this.logUnavailable(`rate-limit store unavailable; failing ${this.failMode}`, () => {
      const err = new RedisStoreUnavailableError([this.name, reason], { cause });
      return { store: this.name, code: err.code, error: err.message };
    });
    return this.unavailableResult;
  }

  private watchConnection(): void {
    const logError = throttledLog({ logger: this.log, level: 'warn', intervalMs: 10_000 });
    this.redis.on('ready', () => {
      this.log.info('rate-limit store connected', { store: this.name });
    });
    // Without a listener ioredis would print every failed reconnect attempt; keep one line per interval.
    this.redis.on('error', (err: unknown) =>
      logError('rate-limit store connection error', { store: this.name, error: errorMessage(err) }),
    );
  }
}

export function createRedisStore(options: RedisStoreOptions = {}): RedisStore {
  return new RedisStore(options);
}
