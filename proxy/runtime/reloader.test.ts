import { describe, expect, it } from 'vitest';
import { Reloader } from './reloader.ts';

describe('Reloader', () => {
  it('applies one snapshot at a time and skips the ones superseded meanwhile', async () => {
    const applied: number[] = [];
    let active = 0;
    let maxActive = 0;
    const r = new Reloader<number>(async (n) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((res) => setTimeout(res, 5));
      applied.push(n);
      active--;
    });
    r.offer(1);
    r.offer(2);
    r.offer(3);
    await r.idle();
    r.offer(4);
    await r.idle();
    expect(applied).toEqual([1, 3, 4]);
    expect(maxActive).toBe(1);
  });
});
