import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Backoff, debounce, LatestWins, sleep, withJitter } from './async.ts';

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

/** A promise's state without waiting for it. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await vi.advanceTimersByTimeAsync(0);
  return done;
}

describe('sleep', () => {
  it('resolves after the given time, not before', async () => {
    const p = sleep(1_000);
    await vi.advanceTimersByTimeAsync(999);
    expect(await settled(p)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(p)).toBe(true);
  });

  it('resolves at once when its signal aborts, and leaves no timer behind', async () => {
    const abort = new AbortController();
    const p = sleep(60_000, abort.signal);
    expect(await settled(p)).toBe(false);
    abort.abort();
    expect(await settled(p)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not wait at all on an already aborted signal', async () => {
    expect(await settled(sleep(60_000, AbortSignal.abort()))).toBe(true);
  });
});

describe('Backoff', () => {
  it('doubles from initialMs up to maxMs, and starts again after reset()', () => {
    const b = new Backoff({ initialMs: 500, maxMs: 3_000, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([500, 1_000, 2_000, 3_000, 3_000]);
    b.reset();
    expect(b.next()).toBe(500);
  });

  it('spreads each delay over ±jitter', () => {
    const low = new Backoff({ initialMs: 1_000, maxMs: 10_000, random: () => 0 });
    const high = new Backoff({ initialMs: 1_000, maxMs: 10_000, random: () => 0.999_999 });
    expect(low.next()).toBe(800);
    expect(high.next()).toBeCloseTo(1_200, 2);
    // the jitter does not compound: the base still doubles exactly
    expect(low.baseMs).toBe(2_000);
    expect(low.next()).toBe(1_600);
  });

  it('honours another growth factor', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1_000, factor: 3, jitter: 0 });
    expect([b.next(), b.next(), b.next()]).toEqual([100, 300, 900]);
  });

  it('withJitter stays within its bounds', () => {
    expect(withJitter(100, 0.5, () => 0)).toBe(50);
    expect(withJitter(100, 0.5, () => 0.5)).toBe(100);
  });
});

describe('debounce', () => {
  it('runs once, waitMs after the last call of a burst', async () => {
    const fn = vi.fn();
    const d = debounce(fn, 100);
    d();
    await vi.advanceTimersByTimeAsync(60);
    d();
    await vi.advanceTimersByTimeAsync(60);
    d();
    expect(fn).not.toHaveBeenCalled();
    expect(d.pending).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(d.pending).toBe(false);
  });

  it('with maxWaitMs, runs no later than that after the first call however long the burst', async () => {
    const fn = vi.fn();
    const d = debounce(fn, 100, { maxWaitMs: 250 });
    for (let t = 0; t < 240; t += 40) {
      d();
      await vi.advanceTimersByTimeAsync(40);
    }
    expect(fn).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(10);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('flush() runs a pending call now; cancel() drops it', async () => {
    const fn = vi.fn();
    const d = debounce(fn, 100);
    d.flush();
    expect(fn).not.toHaveBeenCalled();
    d();
    d.flush();
    expect(fn).toHaveBeenCalledTimes(1);
    d();
    d.cancel();
    await vi.advanceTimersByTimeAsync(500);
    expect(fn).toHaveBeenCalledTimes(1);
  });
});

describe('LatestWins', () => {
  /** A run that stays in flight until released, recording what it was given. */
  function gatedRun() {
    const started: number[] = [];
    const releases: (() => void)[] = [];
    const run = (n: number) => {
      started.push(n);
      return new Promise<void>((resolve) => releases.push(resolve));
    };
    return { run, started, release: () => releases.shift()?.() };
  }

  it('runs the newest input, one at a time, coalescing those offered meanwhile', async () => {
    const g = gatedRun();
    const runner = new LatestWins(g.run, { onError: () => {} });
    runner.offer(1);
    runner.offer(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(g.started).toEqual([1]);
    runner.offer(3);
    runner.offer(4);
    await vi.advanceTimersByTimeAsync(0);
    expect(g.started).toEqual([1]); // at most one in flight
    g.release();
    await vi.advanceTimersByTimeAsync(0);
    expect(g.started).toEqual([1, 4]); // 2 and 3 were replaced
    const idle = runner.idle();
    expect(await settled(idle)).toBe(false);
    g.release();
    expect(await settled(idle)).toBe(true);
  });

  it('reports a failed run and carries on with the next input', async () => {
    const errors: [unknown, number][] = [];
    const seen: number[] = [];
    const runner = new LatestWins(
      async (n: number) => {
        seen.push(n);
        if (n === 1) throw new Error('boom');
      },
      { onError: (err, n) => errors.push([err, n]) },
    );
    runner.offer(1);
    await runner.idle();
    runner.offer(2);
    await runner.idle();
    expect(seen).toEqual([1, 2]);
    expect(errors.map(([e, n]) => [(e as Error).message, n])).toEqual([['boom', 1]]);
  });

  it('spaces runs by spacingMs(last run time)', async () => {
    const g = gatedRun();
    const runner = new LatestWins(g.run, { onError: () => {}, spacingMs: (ms) => ms });
    runner.offer(1);
    await vi.advanceTimersByTimeAsync(300); // the first run takes 300 ms
    runner.offer(2);
    g.release();
    await vi.advanceTimersByTimeAsync(299);
    expect(g.started).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(g.started).toEqual([1, 2]);
    g.release();
    await runner.idle();
  });
});
