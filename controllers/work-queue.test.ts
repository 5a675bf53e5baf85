import { describe, expect, it } from 'vitest';
import { WorkQueue } from './work-queue.ts';

describe('WorkQueue', () => {
  it('queues a key once, in order', async () => {
    const q = new WorkQueue();
    for (const k of ['a', 'b', 'a', 'c', 'b']) q.add(k);
    expect(q.length).toBe(3);
    expect([await q.get(), await q.get(), await q.get()]).toEqual(['a', 'b', 'c']);
  });

  it('hands a key to one worker at a time; added while processing, it comes back after done()', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    q.add('a');
    expect(q.length).toBe(0);
    q.done(key!);
    expect(q.length).toBe(1);
    expect(await q.get()).toBe('a');
  });

  it('wakes a waiting worker', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.add('x');
    expect(await waiting).toBe('x');
  });

  it('backs off per key exponentially up to a cap, and forget() resets it', () => {
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1_000 });
    expect([q.nextDelay('a'), q.nextDelay('a'), q.nextDelay('a'), q.nextDelay('b')]).toEqual([
      100, 200, 400, 100,
    ]);
    for (let i = 0; i < 10; i++) q.nextDelay('a');
    expect(q.nextDelay('a')).toBe(1_000);
    q.forget('a');
    expect(q.nextDelay('a')).toBe(100);
  });

  it('adds a key after a delay; the earliest pending delay wins', async () => {
    const q = new WorkQueue();
    q.addAfter('a', 10_000);
    q.addAfter('a', 20);
    expect(q.length).toBe(0);
    expect(await q.get()).toBe('a');
  });

  it('reports its depth and returns undefined to workers once shut down', async () => {
    const depths: number[] = [];
    const q = new WorkQueue({ onDepth: (d) => depths.push(d) });
    q.add('a');
    q.add('b');
    await q.get();
    const waiter = (await q.get(), q.get());
    q.shutDown();
    expect(await waiter).toBeUndefined();
    q.add('c');
    expect(q.length).toBe(0);
    expect(depths).toEqual([1, 2, 1, 0]);
  });
});
