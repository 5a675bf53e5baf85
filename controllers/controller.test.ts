import { describe, expect, it, vi } from 'vitest';
import { componentLogger } from '../lib/logger.ts';
import { Controller, stringKeys } from './controller.ts';
import { tenantKey, tenantWorkKeys, type TenantWorkKey } from './tenant-keys.ts';

const logger = componentLogger('test');

/** Resolves once cond() holds (vi.waitFor polls it); fails after 5 s. */
const until = (cond: () => boolean) =>
  vi.waitFor(
    () => {
      if (!cond()) throw new Error('condition not reached');
    },
    { timeout: 5_000, interval: 2 },
  );

/** A reconcile that blocks until released, recording concurrency. */
function gated() {
  const waiting: (() => void)[] = [];
  const state = { running: 0, maxRunning: 0, calls: [] as string[] };
  const reconcile = async (key: string) => {
    state.calls.push(key);
    state.running++;
    state.maxRunning = Math.max(state.maxRunning, state.running);
    await new Promise<void>((r) => waiting.push(r));
    state.running--;
  };
  const releaseAll = () => waiting.splice(0).forEach((r) => r());
  return { state, reconcile, releaseAll, waiting };
}

describe('Controller', () => {
  it('never reconciles one key twice at once, and reconciles it again if it changed meanwhile', async () => {
    const g = gated();
    const c = new Controller({
      keys: stringKeys,
      name: 'test-a',
      concurrency: 4,
      logger,
      reconcile: g.reconcile,
    });
    c.start();
    c.enqueue('k');
    await until(() => g.waiting.length === 1);
    c.enqueue('k');
    c.enqueue('k');
    g.releaseAll();
    await until(() => g.waiting.length === 1 && g.state.calls.length === 2);
    expect(g.state.maxRunning).toBe(1);
    g.releaseAll();
    await c.shutDown();
    expect(g.state.calls).toEqual(['k', 'k']);
  });

  it('runs different keys in parallel, up to the concurrency', async () => {
    const g = gated();
    const c = new Controller({
      keys: stringKeys,
      name: 'test-b',
      concurrency: 3,
      logger,
      reconcile: g.reconcile,
    });
    for (const k of ['a', 'b', 'c', 'd', 'e']) c.enqueue(k);
    c.start();
    await until(() => g.waiting.length === 3);
    expect(c.queue.length).toBe(2);
    g.releaseAll();
    await until(() => g.state.calls.length === 5);
    g.releaseAll();
    await c.shutDown();
    expect(g.state.maxRunning).toBe(3);
  });

  it('retries a failing key with backoff until it succeeds, then forgets its failures', async () => {
    let attempts = 0;
    const c = new Controller({
      keys: stringKeys,
      name: 'test-c',
      baseDelayMs: 1,
      logger,
      reconcile: async () => {
        if (++attempts < 3) throw new Error('not yet');
      },
    });
    c.start();
    c.enqueue('k');
    await until(() => attempts === 3);
    await until(() => c.queue.failures('k') === 0);
    await c.shutDown();
  });

  it('keeps queued keys while stopped and works them off when started again', async () => {
    const seen: string[] = [];
    const c = new Controller({
      keys: stringKeys,
      name: 'test-d',
      logger,
      reconcile: async (k) => void seen.push(k),
    });
    c.start();
    await c.stopWorkers();
    c.enqueue('later');
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([]);
    c.start();
    await until(() => seen.length === 1);
    await c.shutDown();
  });

  it('requeues a key that asks for it', async () => {
    let calls = 0;
    const c = new Controller({
      keys: stringKeys,
      name: 'test-e',
      logger,
      reconcile: async () => (++calls < 3 ? { requeueAfterMs: 1 } : undefined),
    });
    c.start();
    c.enqueue('k');
    await until(() => calls === 3);
    await c.shutDown();
  });

  it('hands typed keys to reconcile, and drops a queue entry that is no key of its own', async () => {
    const seen: TenantWorkKey[] = [];
    const c = new Controller<TenantWorkKey>({
      keys: tenantWorkKeys,
      name: 'test-typed',
      logger,
      reconcile: async (k) => void seen.push(k),
    });
    c.queue.add('not-a-key');
    c.enqueue(tenantKey('acme'));
    c.start();
    await until(() => seen.length === 1 && c.queue.length === 0);
    expect(seen).toEqual([{ kind: 'Tenant', name: 'acme' }]);
    await c.shutDown();
  });
});
