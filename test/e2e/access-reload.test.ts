// A policy change takes effect without a restart: the server below keeps listening while each new snapshot
// (policies, Secrets) is compiled into a new hook and swapped in, as the proxy swaps route tables. Also:
// with both kinds attached, a request access refuses spends no rate budget.
import { describe, expect, it } from 'vitest';
import type { AttachedPolicyInputs } from '../../proxy/attached-policies.ts';
import { LocalStore } from '../../proxy/ratelimit/local-store.ts';
import { rateLimitPolicy } from '../helpers/ratelimit.ts';
import type { AttachPolicies } from '../../proxy/request-policy.ts';
import { accessPolicy, namespace, secret, send } from '../helpers/access.ts';
import { uniqueName } from '../env/names.ts';
import { seamHarness } from './access-harness.ts';

const seam = seamHarness();

/** A server whose hook is rebuilt from each snapshot given to `apply`; the store outlives snapshots. */
async function reloadable(ns: string) {
  const store = new LocalStore();
  let hook: AttachPolicies = () => [];
  const server = await seam.serve(ns, () => hook);
  const apply = (snapshot: Partial<AttachedPolicyInputs>) => {
    hook = seam.compile({ namespaces: [namespace(ns, 'acme')], ...snapshot }, store).attach;
  };
  return { url: `${server.url}/`, apply };
}

describe('policy changes without a restart', () => {
  it('applies a new, changed and removed AccessPolicy on the next snapshot', async () => {
    const ns = uniqueName('team');
    const { url, apply } = await reloadable(ns);
    expect((await send(url, { method: 'DELETE' })).status).toBe(200);

    apply({
      accessPolicies: [accessPolicy({ namespace: ns, rule: 'methods', parameters: { methods: ['GET'] } })],
    });
    expect((await send(url, { method: 'DELETE' })).status).toBe(403);
    expect((await send(url, { method: 'GET' })).status).toBe(200);

    apply({
      accessPolicies: [
        accessPolicy({ namespace: ns, rule: 'methods', parameters: { methods: ['GET', 'DELETE'] } }),
      ],
    });
    expect((await send(url, { method: 'DELETE' })).status).toBe(200);

    apply({
      accessPolicies: [
        accessPolicy({ namespace: ns, rule: 'allow-cidrs', parameters: { cidrs: ['127.0.0.9/32'] } }),
      ],
    });
    expect((await send(url, { from: '127.0.0.1' })).status).toBe(403);
    expect((await send(url, { from: '127.0.0.9' })).status).toBe(200);

    apply({});
    expect((await send(url, { from: '127.0.0.1', method: 'DELETE' })).status).toBe(200);
  });

  it('rotates API keys when the Secret changes', async () => {
    const ns = uniqueName('team');
    const { url, apply } = await reloadable(ns);
    const policy = accessPolicy({
      namespace: ns,
      rule: 'api-key',
      parameters: { secretRef: { name: 'keys' } },
    });
    apply({ accessPolicies: [policy], secrets: [secret(ns, 'keys', { k: 'old-key' })] });
    expect((await send(url, { headers: { 'x-api-key': 'old-key' } })).status).toBe(200);

    apply({ accessPolicies: [policy], secrets: [secret(ns, 'keys', { k: 'new-key' })] });
    expect((await send(url, { headers: { 'x-api-key': 'old-key' } })).status).toBe(403);
    expect((await send(url, { headers: { 'x-api-key': 'new-key' } })).status).toBe(200);

    apply({ accessPolicies: [policy], secrets: [] }); // Secret deleted: fail closed, not open
    expect((await send(url, { headers: { 'x-api-key': 'new-key' } })).status).toBe(500);
  });

  it('runs access before the rate limit, so refused requests leave the budget alone', async () => {
    const ns = uniqueName('team');
    const { url, apply } = await reloadable(ns);
    apply({
      accessPolicies: [
        accessPolicy({
          namespace: ns,
          rule: 'require-headers',
          parameters: { headers: [{ name: 'X-Api-Version' }] },
        }),
      ],
      rateLimitPolicies: [
        rateLimitPolicy({ namespace: ns, name: 'three', limits: [{ name: 'x', requests: 3, unit: 'Hour' }] }),
      ],
    });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await send(url)).status); // no header: refused by access
    for (let i = 0; i < 4; i++)
      statuses.push((await send(url, { headers: { 'x-api-version': '2' } })).status);
    expect(statuses).toEqual([...Array(10).fill(403), 200, 200, 200, 429]);
  });
});
