// Rate-limit verdicts as HTTP clients see them, over real HTTP and real time (a 1-second unit), with the
// local store and with a real redis-server. The server here is a stand-in for the proxy's pipeline: it
// evaluates the policy and answers with the verdict's status and headers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RateLimit } from '../../api/ratelimitpolicy.ts';
import { compileRateLimitPolicies } from '../../proxy/ratelimit/attach.ts';
import { LocalStore } from '../../proxy/ratelimit/local-store.ts';
import { RedisStore } from '../../proxy/ratelimit/redis-store.ts';
import type { RateLimitStore } from '../../proxy/ratelimit/store.ts';
import { point, rateLimitPolicy, request } from '../helpers/ratelimit.ts';
import { startRedis, type RedisServer } from '../env/redis.ts';
import { uniqueName } from '../env/names.ts';

let redis: RedisServer;
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await redis?.stop();
});

/** An HTTP server that runs the policies attached to one route and answers 200 or the refusal. */
async function serve(store: RateLimitStore, limits: RateLimit[]): Promise<string> {
  const { attach } = compileRateLimitPolicies([rateLimitPolicy({ name: uniqueName('http'), limits })], {
    store,
  });
  const policies = attach(point({}));
  const server: Server = createServer(async (req, res) => {
    const ctx = request({
      headers: req.headers as Record<string, string>,
      sourceIp: req.socket.remoteAddress ?? '',
    });
    for (const policy of policies) {
      const verdict = await policy.evaluate(ctx);
      for (const [k, v] of Object.entries(verdict.headers ?? {})) res.setHeader(k, v);
      if (!verdict.allow) {
        res.writeHead(verdict.status, { 'content-type': 'text/plain' }).end(`${verdict.reason}\n`);
        return;
      }
    }
    res.writeHead(200).end('ok\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(r)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  await res.text();
  return res;
}

const stores: Record<string, () => Promise<RateLimitStore>> = {
  local: async () => new LocalStore(),
  redis: async () => {
    const s = new RedisStore({ url: redis.url, commandTimeoutMs: 2_000 });
    closers.push(() => s.close());
    await s.ready();
    return s;
  },
};

describe.each(Object.keys(stores))('rate limits over HTTP (%s store)', (kind) => {
  it('answers N requests with 200 and X-RateLimit headers, the N+1th with 429, and resets after 1 s', async () => {
    const url = await serve(await stores[kind]!(), [{ name: 'per-second', requests: 4, unit: 'Second' }]);
    const responses = [];
    for (let i = 0; i < 5; i++) responses.push(await get(url));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
    expect(responses.map((r) => r.headers.get('x-ratelimit-remaining'))).toEqual(['3', '2', '1', '0', '0']);
    expect(responses[0]!.headers.get('x-ratelimit-limit')).toBe('4');
    expect(responses[0]!.headers.get('x-ratelimit-reset')).toBe('1');
    expect(responses[4]!.headers.get('retry-after')).toBe('1');
    expect(responses[0]!.headers.get('retry-after')).toBeNull();

    await new Promise((r) => setTimeout(r, 1_050));
    const later = [];
    for (let i = 0; i < 5; i++) later.push((await get(url)).status);
    expect(later).toEqual([200, 200, 200, 200, 429]);
  });

  it('keeps one counter per API key', async () => {
    const url = await serve(await stores[kind]!(), [
      {
        name: 'per-key',
        requests: 1,
        unit: 'Minute',
        clientSelectors: [{ headers: [{ name: 'X-API-Key', type: 'Distinct' }] }],
      },
    ]);
    const statuses = [];
    for (const key of ['k1', 'k2', 'k1', 'k2', 'k3'])
      statuses.push((await get(url, { 'x-api-key': key })).status);
    expect(statuses).toEqual([200, 200, 429, 429, 200]);
    expect((await get(url)).status).toBe(200); // no key: the limit does not apply
  });
});
