import { describe, expect, it } from 'vitest';
import { latestWins } from './async.ts';

describe('latestWins', () => {
  it('runs one value at a time and skips the ones superseded meanwhile', async () => {
    const ran: number[] = [];
    let active = 0;
    let maxActive = 0;
    const r = latestWins<number>(async (n) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((res) => setTimeout(res, 5));
      ran.push(n);
      active--;
    });
    r.offer(1);
    r.offer(2);
    r.offer(3);
    await r.idle();
    r.offer(4);
    await r.idle();
    expect(ran).toEqual([1, 3, 4]);
    expect(maxActive).toBe(1);
  });

  it('keeps running later offers after a run throws', async () => {
    const ran: number[] = [];
    const r = latestWins<number>(async (n) => {
      if (n === 1) throw new Error('boom');
      ran.push(n);
    });
    r.offer(1);
    await expect(r.idle()).rejects.toThrow('boom');
    r.offer(2);
    await r.idle();
    expect(ran).toEqual([2]);
  });

  it('asks for the gap after each run with the run time', async () => {
    const seen: number[] = [];
    const r = latestWins<number>(async () => undefined, {
      gapMs: (ms) => {
        seen.push(ms);
        return 0;
      },
    });
    r.offer(1);
    await r.idle();
    r.offer(2);
    await r.idle();
    expect(seen.length).toBe(2);
    expect(seen.every((ms) => ms >= 0)).toBe(true);
  });
});
