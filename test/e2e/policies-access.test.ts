// AccessPolicy through a real `tenantgate proxy --from-files` process and the real policy engine on the
// built bundle (dist/policies/bundle.tar.gz, `make policies`): each built-in rule (allow-cidrs,
// require-headers, methods, api-key with keys in a Secret) admits and refuses (403) real requests; a rule no
// bundle provides refuses with 500 (fail closed); a GRPCRoute refusal is gRPC status 7; access runs before
// the rate limit, so refused requests spend no budget.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, request, startEcho, type EchoBackend, type RequestOptions } from './proxy-harness.ts';
import {
  accessYaml,
  baseManifests,
  grpcCall,
  manifestDir,
  rateLimitYaml,
  routeYaml,
  spawnProxy,
  type ProxyProcess,
} from './policies-harness.ts';

const NS = 'access';
let backend: EchoBackend;
let files: ReturnType<typeof manifestDir>;
let port: number;
let proxy: ProxyProcess;
const fromOther = new http.Agent({ localAddress: '127.0.0.2' });

beforeAll(async () => {
  backend = await startEcho('echo');
  port = await freePort();
  files = manifestDir();
  files.write(
    'all.yaml',
    baseManifests({ namespace: NS, port, backendPort: backend.port }) +
      routeYaml(NS, 'cidrs', 'cidrs.test') +
      accessYaml({
        namespace: NS,
        name: 'only-127-0-0-2',
        route: 'cidrs',
        rule: 'allow-cidrs',
        parameters: '{cidrs: [10.0.0.0/8, 127.0.0.2/32]}',
      }) +
      routeYaml(NS, 'headers', 'headers.test') +
      accessYaml({
        namespace: NS,
        name: 'tenant-header',
        route: 'headers',
        rule: 'require-headers',
        parameters: '{headers: [{name: X-Tenant, value: acme}]}',
      }) +
      routeYaml(NS, 'methods', 'methods.test') +
      accessYaml({
        namespace: NS,
        name: 'read-only',
        route: 'methods',
        rule: 'methods',
        parameters: '{methods: [GET, HEAD]}',
      }) +
      routeYaml(NS, 'keys', 'keys.test') +
      accessYaml({
        namespace: NS,
        name: 'team-key',
        route: 'keys',
        rule: 'api-key',
        parameters: '{header: X-Team-Key, secretRef: {name: client-keys}}',
      }) +
      rateLimitYaml(NS, 'keys-limit', 'keys', '[{name: all, requests: 2, unit: Hour}]') +
      `
---
apiVersion: v1
kind: Secret
metadata: {name: client-keys, namespace: ${NS}}
stringData: {mobile: mob-7f3a91, web: web-22c8d0}
` +
      routeYaml(NS, 'typo', 'typo.test') +
      accessYaml({
        namespace: NS,
        name: 'typo',
        route: 'typo',
        rule: 'allow-cidr',
        parameters: '{cidrs: [127.0.0.0/8]}',
      }) +
      `
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: rpc, namespace: ${NS}}
spec:
  parentRefs: [{name: gw}]
  hostnames: [rpc.test]
  rules: [{backendRefs: [{name: echo, port: 80}]}]
` +
      accessYaml({
        namespace: NS,
        name: 'rpc-cidrs',
        route: 'rpc',
        kind: 'GRPCRoute',
        rule: 'allow-cidrs',
        parameters: '{cidrs: [10.0.0.0/8]}',
      }),
  );
  proxy = await spawnProxy({ dir: files.dir });
});

afterAll(async () => {
  fromOther.destroy();
  await proxy?.stop();
  await backend?.close();
  files?.remove();
});

const send = (host: string, o: RequestOptions = {}) => request(port, '/orders', { host, ...o });

describe('AccessPolicy built-in rules through tenantgate proxy --from-files', () => {
  it('allow-cidrs admits a source inside the ranges and refuses one outside with 403', async () => {
    expect((await send('cidrs.test', { agent: fromOther })).status).toBe(200);
    const refused = await send('cidrs.test');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(
      /source address is not in an allowed range \(AccessPolicy access\/only-127-0-0-2\)/,
    );
  });

  it('require-headers admits the right header value and refuses a wrong or missing one', async () => {
    expect((await send('headers.test', { headers: { 'X-Tenant': 'acme' } })).status).toBe(200);
    expect((await send('headers.test', { headers: { 'X-Tenant': 'globex' } })).status).toBe(403);
    const missing = await send('headers.test');
    expect(missing.status).toBe(403);
    expect(missing.body).toMatch(/missing or wrong header: x-tenant/);
  });

  it('methods admits the listed methods and refuses the others', async () => {
    expect((await send('methods.test', { method: 'GET' })).status).toBe(200);
    expect((await send('methods.test', { method: 'HEAD' })).status).toBe(200);
    const refused = await send('methods.test', { method: 'DELETE' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/method DELETE is not allowed/);
  });

  it('api-key admits any key of the Secret and refuses a wrong or missing one, before the rate limit', async () => {
    // refusals first: they must not spend the route's budget of 2
    for (let i = 0; i < 3; i++) {
      expect((await send('keys.test', { headers: { 'X-Team-Key': 'mob-7f3a90' } })).status).toBe(403);
      expect((await send('keys.test')).status).toBe(403);
    }
    expect((await send('keys.test', { headers: { 'X-Team-Key': 'mob-7f3a91' } })).status).toBe(200);
    expect((await send('keys.test', { headers: { 'X-Team-Key': 'web-22c8d0' } })).status).toBe(200);
    expect((await send('keys.test', { headers: { 'X-Team-Key': 'web-22c8d0' } })).status).toBe(429);
    // the key is never logged
    expect(proxy.output()).not.toMatch(/mob-7f3a91|web-22c8d0/);
  });

  it('refuses with 500 while the policy names a rule no bundle provides (fail closed)', async () => {
    const res = await send('typo.test');
    expect(res.status).toBe(500);
    expect(res.body).toMatch(/is invalid; see its status/);
    expect(proxy.output()).toMatch(/'allow-cidr' is not a data-path rule of any loaded policy bundle/);
  });

  it('answers a GRPCRoute refusal with grpc-status 7 (PERMISSION_DENIED)', async () => {
    const refused = await grpcCall(port, 'rpc.test', '/pkg.Svc/Call');
    expect(refused.headers[':status']).toBe(200);
    expect(refused.headers['grpc-status']).toBe('7');
    expect(decodeURIComponent(String(refused.headers['grpc-message']))).toMatch(/not in an allowed range/);
  });
});
