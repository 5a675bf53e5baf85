// The reflector against a scripted API server on a local port (real KubeClient, real HTTP streaming):
// the exact sequences a 410 Gone and a failing list produce are hard to provoke on demand from a real
// kube-apiserver (test/integration/kube-informer.test.ts covers the real one).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { componentLogger } from '../lib/logger.ts';
import { registry } from '../lib/metrics.ts';
import { KubeClient } from './client.ts';
import { Reflector, type ReflectorSink } from './reflector.ts';
import { KINDS } from './resources.ts';
import type { KubeObject } from './types.ts';

const cm = (name: string, resourceVersion: string): KubeObject => ({
  metadata: { name, namespace: 'ns', resourceVersion },
});

type Reply = (res: http.ServerResponse) => void;
const list =
  (resourceVersion: string, ...items: KubeObject[]): Reply =>
  (res) =>
    void res.end(JSON.stringify({ kind: 'ConfigMapList', metadata: { resourceVersion }, items }));
const events =
  (...lines: object[]): Reply =>
  (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    for (const line of lines) res.write(JSON.stringify(line) + '\n');
    // then stays open, as a healthy watch does
  };
const status =
  (code: number, reason: string): Reply =>
  (res) => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', code, reason, message: reason }));
  };

/** Answers lists and watches from two scripts, in order; records what was asked ("list", "watch@RV"). */
async function scriptedServer(lists: Reply[], watches: Reply[]) {
  const asked: string[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    const watch = url.searchParams.get('watch');
    asked.push(watch ? `watch@${url.searchParams.get('resourceVersion')}` : 'list');
    const reply = (watch ? watches : lists).shift();
    if (reply) reply(res);
    else events()(res); // nothing more scripted: an idle watch (or list) that stays open
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: 'c',
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const client = new KubeClient({ kubeConfig: kc });
  cleanups.push(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { client, asked };
}

/** A sink that keeps a cache and writes down what it was told. */
function recordingSink() {
  const seen: string[] = [];
  const sink: ReflectorSink<KubeObject> = {
    replace: (items) => seen.push(`replace:${items.map((i) => i.metadata?.name).join(',')}`),
    upsert: (obj) => seen.push(`upsert:${obj.metadata?.name}`),
    remove: (obj) => seen.push(`remove:${obj.metadata?.name}`),
  };
  return { sink, seen };
}

/** Polls (vitest's own poller) until `condition` holds; says what it waited for when it does not. */
const until = (condition: () => boolean, what: string) =>
  vi.waitFor(() => expect(condition(), what).toBe(true), { timeout: 10_000, interval: 5 });

async function restarts(reason: 'gone' | 'error'): Promise<number> {
  const metric = await registry.getSingleMetric('tenantgate_informer_restarts_total')?.get();
  return (metric?.values ?? [])
    .filter((v) => v.labels.kind === 'v1/ConfigMap' && v.labels.reason === reason)
    .reduce((n, v) => n + v.value, 0);
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function reflector(client: KubeClient, sink: ReflectorSink<KubeObject>, backoffMs = 1) {
  const r = new Reflector<KubeObject>(
    {
      client,
      kind: KINDS.ConfigMap,
      kindLabel: 'v1/ConfigMap',
      logger: componentLogger('reflector-test'),
      backoff: { initialMs: backoffMs, maxMs: backoffMs * 2 },
      watchTimeoutSeconds: 60,
    },
    sink,
  );
  cleanups.push(() => r.stop());
  return r;
}

describe('Reflector', () => {
  it('re-lists after a 410 Gone in the watch stream, then watches from the new list', async () => {
    const { client, asked } = await scriptedServer(
      [list('10', cm('a', '5'), cm('b', '6')), list('20', cm('b', '6'), cm('c', '12'))],
      [
        events({
          type: 'ERROR',
          object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' },
        }),
        events({ type: 'ADDED', object: cm('d', '21') }),
      ],
    );
    const { sink, seen } = recordingSink();
    const r = reflector(client, sink);
    const gone = await restarts('gone');
    r.start();
    await until(() => seen.includes('upsert:d'), 'the event after the re-list');
    expect(await restarts('gone')).toBe(gone + 1);
    expect(asked).toEqual(['list', 'watch@10', 'list', 'watch@20']);
    expect(seen).toEqual(['replace:a,b', 'replace:b,c', 'upsert:d']);
    expect(r.resourceVersion).toBe('21');
    expect(r.lastError).toBeUndefined();
  });

  it('re-lists when the watch request itself is answered 410', async () => {
    const { client, asked } = await scriptedServer(
      [list('10', cm('a', '5')), list('30', cm('a', '5'))],
      [status(410, 'Expired')],
    );
    const { sink, seen } = recordingSink();
    const r = reflector(client, sink);
    r.start();
    await until(() => asked.includes('watch@30'), 'the watch from the new list');
    expect(asked).toEqual(['list', 'watch@10', 'list', 'watch@30']);
    expect(seen).toEqual(['replace:a', 'replace:a']);
  });

  it('retries a failing list with backoff and says why until it succeeds', async () => {
    const { client, asked } = await scriptedServer(
      [status(500, 'InternalError'), status(503, 'ServiceUnavailable'), list('7', cm('a', '5'))],
      [],
    );
    const { sink, seen } = recordingSink();
    const r = reflector(client, sink);
    const before = { error: await restarts('error'), gone: await restarts('gone') };
    r.start();
    await until(() => asked.includes('watch@7'), 'the watch after the third list');
    expect(asked).toEqual(['list', 'list', 'list', 'watch@7']);
    expect(seen).toEqual(['replace:a']);
    expect(r.lastError).toBeUndefined();
    expect(await restarts('error')).toBe(before.error + 2);
    expect(await restarts('gone')).toBe(before.gone);
  });

  it('resumes from the last resourceVersion after a restart, and a stop wakes a backoff sleep', async () => {
    const { client, asked } = await scriptedServer([list('10'), status(500, 'InternalError')], []);
    const { sink } = recordingSink();
    const r = reflector(client, sink);
    r.start();
    await until(() => asked.includes('watch@10'), 'the first watch');
    await r.stop();
    r.start();
    await until(() => asked.length === 3, 'the second watch');
    expect(asked).toEqual(['list', 'watch@10', 'watch@10']);
    // a reflector stuck in a long backoff stops at once
    const slow = reflector(client, sink, 600_000);
    slow.start();
    await until(() => slow.lastError !== undefined, 'the failed list');
    expect(slow.lastError).toContain('500');
    await slow.stop(); // would hang for ten minutes if stop() did not wake the sleep
  });
});
