// api-key AccessPolicies read their keys from a Secret of their own namespace, and only from there: over
// real HTTP, through the real engine, a policy that tries to use another tenant's Secret gets nothing from
// it — the route refuses everything (500, fail closed) and the other tenant's keys never open it.
import { describe, expect, it } from 'vitest';
import { accessPolicy, namespace, secret, send } from '../helpers/access.ts';
import type { Secret } from '../../proxy/model/gateway-api.ts';
import { uniqueName } from '../env/names.ts';
import { seamHarness } from './access-harness.ts';

const seam = seamHarness();

const attacker = uniqueName('team-a');
const victim = uniqueName('team-b');
const secrets: Secret[] = [
  secret(attacker, 'keys', { mine: 'attacker-key-1' }),
  secret(victim, 'keys', { theirs: 'victim-key-1' }),
  secret(victim, 'only-in-victim', { theirs: 'victim-key-2' }),
];

async function serve(parameters: Record<string, unknown>) {
  const policies = seam.compile({
    accessPolicies: [accessPolicy({ namespace: attacker, rule: 'api-key', parameters })],
    secrets,
    namespaces: [namespace(attacker, 'a'), namespace(victim, 'b')],
  });
  const server = await seam.serve(attacker, () => policies.attach);
  return { url: `${server.url}/`, invalid: policies.invalid };
}

describe("an api-key policy and another namespace's Secret", () => {
  it('reads the Secret of its own namespace when both namespaces have one of that name', async () => {
    const { url, invalid } = await serve({ secretRef: { name: 'keys' } });
    expect(invalid).toEqual([]);
    expect((await send(url, { headers: { 'x-api-key': 'attacker-key-1' } })).status).toBe(200);
    expect((await send(url, { headers: { 'x-api-key': 'victim-key-1' } })).status).toBe(403);
  });

  it('is invalid when it names the other namespace, and the route refuses even the victim key', async () => {
    const { url, invalid } = await serve({ secretRef: { name: 'keys', namespace: victim } });
    expect(invalid[0]!.problems[0]).toBe(
      `spec.parameters.secretRef.namespace: must be the policy's own namespace ${attacker} (got "${victim}"); an AccessPolicy cannot read another namespace's Secrets`,
    );
    for (const key of ['victim-key-1', 'attacker-key-1']) {
      expect((await send(url, { headers: { 'x-api-key': key } })).status).toBe(500);
    }
  });

  it('does not find a Secret that exists only in the other namespace', async () => {
    const { url, invalid } = await serve({ secretRef: { name: 'only-in-victim' } });
    expect(invalid[0]!.problems).toEqual([
      `spec.parameters.secretRef: Secret ${attacker}/only-in-victim not found`,
    ]);
    expect((await send(url, { headers: { 'x-api-key': 'victim-key-2' } })).status).toBe(500);
  });
});
