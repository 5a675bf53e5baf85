// Each built-in data-path rule (allow-cidrs, require-headers, methods, api-key) allowing and refusing real
// HTTP requests, decided by the real policy engine on the real built bundle (dist/policies/bundle.tar.gz,
// `make policies`). The server is a stand-in for the proxy's pipeline on the RequestPolicy seam.
import { describe, expect, it } from 'vitest';
import { buildBundle } from '../helpers/policies.ts';
import { accessPolicy, namespace, secret, send } from '../helpers/access.ts';
import type { Secret } from '../../proxy/model/gateway-api.ts';
import { uniqueName } from '../env/names.ts';
import { seamHarness } from './access-harness.ts';

const seam = seamHarness(); // its engine reads the bundle `make policies` built

/** Serves route `api` of namespace `ns` guarded by the given AccessPolicy. */
async function guarded(
  policy: Omit<Parameters<typeof accessPolicy>[0], 'namespace'>,
  extra: { ns?: string; secrets?: Secret[] } = {},
): Promise<string> {
  const ns = extra.ns ?? uniqueName('team');
  const policies = seam.compile({
    accessPolicies: [accessPolicy({ ...policy, namespace: ns })],
    secrets: extra.secrets ?? [],
    namespaces: [namespace(ns, 'acme')],
  });
  const server = await seam.serve(ns, () => policies.attach);
  return `${server.url}/v1/orders?page=2`;
}

describe('built-in access rules over HTTP, through the real engine', () => {
  it('allow-cidrs: admits a client inside the ranges and refuses one outside with 403', async () => {
    const url = await guarded({ rule: 'allow-cidrs', parameters: { cidrs: ['10.0.0.0/8', '127.0.0.2/32'] } });
    expect(await send(url, { from: '127.0.0.2' })).toEqual({ status: 200, body: 'ok' });
    const refused = await send(url, { from: '127.0.0.1' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(
      /^source address is not in an allowed range \(AccessPolicy team-[^/]+\/access\)$/,
    );
  });

  it('require-headers: admits a request with every header right and names the one that is missing or wrong', async () => {
    const url = await guarded({
      rule: 'require-headers',
      parameters: {
        headers: [
          { name: 'X-Tenant', value: 'acme' },
          { name: 'X-Request-Id', pattern: '^[0-9a-f]{8}$' },
        ],
      },
    });
    expect((await send(url, { headers: { 'X-Tenant': 'acme', 'X-Request-Id': '0badc0de' } })).status).toBe(
      200,
    );
    expect(await send(url, { headers: { 'X-Tenant': 'acme' } })).toMatchObject({
      status: 403,
      body: expect.stringMatching(/^missing or wrong header: x-request-id/),
    });
    expect(await send(url, { headers: { 'X-Tenant': 'globex', 'X-Request-Id': 'nothex!!' } })).toMatchObject({
      status: 403,
      body: expect.stringMatching(/^missing or wrong header: x-request-id, x-tenant/),
    });
  });

  it('methods: admits the listed methods only', async () => {
    const url = await guarded({ rule: 'methods', parameters: { methods: ['GET', 'HEAD'] } });
    expect((await send(url, { method: 'GET' })).status).toBe(200);
    expect((await send(url, { method: 'HEAD' })).status).toBe(200);
    expect(await send(url, { method: 'DELETE' })).toMatchObject({
      status: 403,
      body: expect.stringMatching(/^method DELETE is not allowed on this route/),
    });
  });

  it('api-key: admits any key of the Secret, refuses a wrong or missing one', async () => {
    const ns = uniqueName('team');
    const url = await guarded(
      { rule: 'api-key', parameters: { header: 'X-Team-Key', secretRef: { name: 'client-keys' } } },
      { ns, secrets: [secret(ns, 'client-keys', { mobile: 'mob-7f3a91', web: 'web-22c8d0\n' })] },
    );
    expect((await send(url, { headers: { 'x-team-key': 'mob-7f3a91' } })).status).toBe(200);
    expect((await send(url, { headers: { 'x-team-key': 'web-22c8d0' } })).status).toBe(200);
    expect(await send(url, { headers: { 'x-team-key': 'mob-7f3a90' } })).toMatchObject({
      status: 403,
      body: expect.stringMatching(/^API key not accepted/),
    });
    expect(await send(url, { headers: { 'x-api-key': 'mob-7f3a91' } })).toMatchObject({
      status: 403,
      body: expect.stringMatching(/^missing API key/),
    });
  });

  it('refuses every request with 500 while the policy names a rule no bundle provides', async () => {
    const url = await guarded({ rule: 'allow-cidr', parameters: { cidrs: ['127.0.0.0/8'] } });
    expect(await send(url)).toMatchObject({
      status: 500,
      body: expect.stringMatching(/is invalid; see its status$/),
    });
  });

  it("gives a custom bundle's rule the route's tenant, the route and the host", async () => {
    const rules = uniqueName('team-rules');
    await seam.engine.setBundle(
      rules,
      buildBundle(
        {
          'catalog.rego': `package tenantgate.access
catalog := {"same-tenant": {"entrypoint": "tenantgate/access/same_tenant/decision", "description": "x-tenant must be the route's tenant", "schema": {"type": "object"}}}`,
          'same_tenant.rego': `package tenantgate.access.same_tenant
default decision := {"allow": false, "status": 401, "reason": "wrong tenant"}
decision := {"allow": true, "status": 200, "reason": "ok"} if {
  input.headers["x-tenant"] == input.tenant
  input.route.kind == "HTTPRoute"
  input.route.name == "api"
  input.host == "127.0.0.1"
  input.path == "/v1/orders"
}`,
        },
        ['tenantgate/access/catalog', 'tenantgate/access/same_tenant/decision'],
      ),
    );
    try {
      const url = await guarded({ rule: 'same-tenant' });
      expect((await send(url, { headers: { 'x-tenant': 'acme' } })).status).toBe(200);
      expect(await send(url, { headers: { 'x-tenant': 'globex' } })).toMatchObject({
        status: 401,
        body: expect.stringMatching(/^wrong tenant/),
      });
    } finally {
      seam.engine.removeBundle(rules);
    }
  });
});
