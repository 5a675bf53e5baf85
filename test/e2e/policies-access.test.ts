// AccessPolicy through a real `tenantgate proxy --from-files` process and the real policy engine on the
// built bundle (dist/policies/bundle.tar.gz, `make policies`): each built-in rule (allow-cidrs,
// require-headers, methods, api-key with keys in a Secret) admits and refuses (403) real requests and says
// why; a rule no bundle provides refuses with 500 (fail closed); a GRPCRoute refusal is gRPC status 7;
// access runs before the rate limit, so refused requests spend no budget. An api-key policy reads Secrets
// of its own namespace only: one that names another tenant's Secret is reported invalid and its route
// refuses everything, the other tenant's keys included.
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
const VICTIM = 'victim';
let backend: EchoBackend;
let files: ReturnType<typeof manifestDir>;
let port: number;
let proxy: ProxyProcess;
const fromOther = new http.Agent({ localAddress: '127.0.0.2' });

/** A Secret of `namespace` whose stringData is the YAML flow mapping `entries`. */
const secretYaml = (namespace: string, name: string, entries: string) => `
---
apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: ${namespace}}
stringData: ${entries}
`;

/** A route `name` (host name.test) guarded by an api-key policy of the same name with these parameters. */
const keyedRoute = (name: string, parameters: string) =>
  routeYaml(NS, name, `${name}.test`) +
  accessYaml({ namespace: NS, name, route: name, rule: 'api-key', parameters });

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
        parameters: `{headers: [{name: X-Tenant, value: acme}, {name: X-Request-Id, pattern: '^[0-9a-f]{8}$'}]}`,
      }) +
      routeYaml(NS, 'methods', 'methods.test') +
      accessYaml({
        namespace: NS,
        name: 'read-only',
        route: 'methods',
        rule: 'methods',
        parameters: '{methods: [GET, HEAD]}',
      }) +
      keyedRoute('keys', '{header: X-Team-Key, secretRef: {name: client-keys}}') +
      rateLimitYaml(NS, 'keys-limit', 'keys', '[{name: all, requests: 2, unit: Hour}]') +
      // a key is the value with surrounding whitespace trimmed (a trailing newline is common in Secrets)
      secretYaml(NS, 'client-keys', '{mobile: mob-7f3a91, web: "web-22c8d0\\n"}') +
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
      }) +
      // another tenant's namespace with Secrets the routes below try to read
      `
---
apiVersion: v1
kind: Namespace
metadata: {name: ${VICTIM}, labels: {tenantgate.io/tenant: globex}}
` +
      secretYaml(NS, 'same-name', '{mine: attacker-key-1}') +
      secretYaml(VICTIM, 'same-name', '{theirs: victim-key-1}') +
      secretYaml(VICTIM, 'only-in-victim', '{theirs: victim-key-2}') +
      keyedRoute('own-ns', '{secretRef: {name: same-name}}') +
      keyedRoute('cross-ns', `{secretRef: {name: same-name, namespace: ${VICTIM}}}`) +
      keyedRoute('victim-only', '{secretRef: {name: only-in-victim}}'),
  );
  proxy = await spawnProxy({ dir: files.dir });
});

afterAll(async () => {
  fromOther.destroy();
  await proxy?.stop();
  await backend?.close();
  files?.remove();
});

const send = (host: string, o: RequestOptions = {}) => request(port, '/v1/orders?page=2', { host, ...o });

/** The problems the proxy logged for AccessPolicy `access/name` ("policy not applied as written"). */
function reportedProblems(name: string): string[] {
  const problems: string[] = [];
  for (const line of proxy.output().split('\n')) {
    if (!line.includes('policy not applied as written')) continue;
    const entry = JSON.parse(line) as { kind: string; policy: string; problems: string[] };
    if (entry.kind === 'AccessPolicy' && entry.policy === `${NS}/${name}`) problems.push(...entry.problems);
  }
  return [...new Set(problems)];
}

describe('AccessPolicy built-in rules through tenantgate proxy --from-files', () => {
  it('allow-cidrs admits a source inside the ranges and refuses one outside with 403', async () => {
    expect((await send('cidrs.test', { agent: fromOther })).status).toBe(200);
    const refused = await send('cidrs.test');
    expect(refused.status).toBe(403);
    expect(refused.body.trim()).toBe(
      'source address is not in an allowed range (AccessPolicy access/only-127-0-0-2)',
    );
  });

  it('require-headers admits a request with every header right and names the ones missing or wrong', async () => {
    const ok = { 'X-Tenant': 'acme', 'X-Request-Id': '0badc0de' };
    expect((await send('headers.test', { headers: ok })).status).toBe(200);
    const noId = await send('headers.test', { headers: { 'X-Tenant': 'acme' } });
    expect(noId.status).toBe(403);
    expect(noId.body).toMatch(/^missing or wrong header: x-request-id \(/);
    const bothWrong = await send('headers.test', {
      headers: { 'X-Tenant': 'globex', 'X-Request-Id': 'nothex!!' },
    });
    expect(bothWrong.status).toBe(403);
    expect(bothWrong.body).toMatch(/^missing or wrong header: x-request-id, x-tenant/);
    const missing = await send('headers.test');
    expect(missing.status).toBe(403);
    expect(missing.body).toMatch(/^missing or wrong header: x-request-id, x-tenant/);
  });

  it('methods admits the listed methods and refuses the others', async () => {
    expect((await send('methods.test', { method: 'GET' })).status).toBe(200);
    expect((await send('methods.test', { method: 'HEAD' })).status).toBe(200);
    const refused = await send('methods.test', { method: 'DELETE' });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/^method DELETE is not allowed on this route/);
  });

  it('api-key admits any key of the Secret and refuses a wrong or missing one, before the rate limit', async () => {
    // refusals first: they must not spend the route's budget of 2
    for (let i = 0; i < 3; i++) {
      const wrong = await send('keys.test', { headers: { 'X-Team-Key': 'mob-7f3a90' } });
      expect(wrong.status).toBe(403);
      expect(wrong.body).toMatch(/^API key not accepted/);
      const missing = await send('keys.test', { headers: { 'X-Api-Key': 'mob-7f3a91' } });
      expect(missing.status).toBe(403);
      expect(missing.body).toMatch(/^missing API key/);
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
    expect(res.body).toMatch(/is invalid; see its status$/m);
    expect(proxy.output()).toMatch(/'allow-cidr' is not a data-path rule of any loaded policy bundle/);
  });

  it('answers a GRPCRoute refusal with grpc-status 7 (PERMISSION_DENIED)', async () => {
    const refused = await grpcCall(port, 'rpc.test', '/pkg.Svc/Call');
    expect(refused.headers[':status']).toBe(200);
    expect(refused.headers['grpc-status']).toBe('7');
    expect(decodeURIComponent(String(refused.headers['grpc-message']))).toMatch(/not in an allowed range/);
  });
});

describe("an api-key policy and another namespace's Secret", () => {
  const withKey = (host: string, key: string) => send(host, { headers: { 'x-api-key': key } });

  it('reads the Secret of its own namespace when both namespaces have one of that name', async () => {
    expect(reportedProblems('own-ns')).toEqual([]);
    expect((await withKey('own-ns.test', 'attacker-key-1')).status).toBe(200);
    expect((await withKey('own-ns.test', 'victim-key-1')).status).toBe(403);
  });

  it('is invalid when it names the other namespace, and the route refuses even the victim key', async () => {
    expect(reportedProblems('cross-ns')).toEqual([
      `spec.parameters.secretRef.namespace: must be the policy's own namespace ${NS} (got "${VICTIM}"); an AccessPolicy cannot read another namespace's Secrets`,
    ]);
    for (const key of ['victim-key-1', 'attacker-key-1'])
      expect((await withKey('cross-ns.test', key)).status).toBe(500);
  });

  it('does not find a Secret that exists only in the other namespace', async () => {
    expect(reportedProblems('victim-only')).toEqual([
      `spec.parameters.secretRef: Secret ${NS}/only-in-victim not found`,
    ]);
    expect((await withKey('victim-only.test', 'victim-key-2')).status).toBe(500);
  });
});
