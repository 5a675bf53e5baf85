// `tenantgate proxy --from-files DIR` as a real process: YAML in, readiness on the admin address,
// --gateway limiting the Gateways served, --bind-address for Gateways without addresses, reload when a
// file changes, a broken file keeping its last good version, and a clean exit on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoServiceYaml, GATEWAY_CLASS_YAML, gatewayYaml, yamlDocuments } from './policies-harness.ts';
import { eventually, freePort, request, startEcho, type EchoBackend } from './proxy-harness.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
let dir: string;
let backend: EchoBackend;
let child: ChildProcess;
let output = '';
let port1: number, port2: number, adminPort: number;

const manifests = (body: string) =>
  yamlDocuments(
    GATEWAY_CLASS_YAML,
    gatewayYaml({ name: 'one', namespace: 'cli', port: port1 }),
    gatewayYaml({ name: 'two', namespace: 'cli', port: port2 }),
    echoServiceYaml('cli', backend.port),
  ) +
  `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: cli}
spec:
  parentRefs: [{name: one}, {name: two}]
  rules:
${body}
`;

beforeAll(async () => {
  backend = await startEcho('echo');
  [port1, port2, adminPort] = [await freePort(), await freePort(), await freePort()];
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tg-cli-'));
  fs.writeFileSync(path.join(dir, 'all.yaml'), manifests('  - backendRefs: [{name: echo, port: 80}]'));
  child = spawn(
    path.join(ROOT, 'node_modules/.bin/node'),
    [
      path.join(ROOT, 'cmd/tenantgate.ts'),
      'proxy',
      '--from-files',
      dir,
      '--gateway',
      'cli/one',
      '--bind-address',
      '127.0.0.1',
      '--admin-address',
      `127.0.0.1:${adminPort}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TENANTGATE_LOG_LEVEL: 'info' } },
  );
  child.stdout!.on('data', (c) => (output += c));
  child.stderr!.on('data', (c) => (output += c));
  await eventually(
    async () => (await request(adminPort, '/readyz').catch(() => ({ status: 0 }))).status === 200,
    30_000,
  );
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await backend?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('tenantgate proxy --from-files', () => {
  it('serves only the Gateways named by --gateway, on --bind-address', async () => {
    const res = await request(port1, '/hello');
    expect(res.echo?.url).toBe('/hello');
    await expect(request(port2, '/hello')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('writes a JSON access log line per request', async () => {
    await request(port1, '/logged');
    await eventually(() =>
      output.split('\n').some((l) => l.includes('"type":"access"') && l.includes('"/logged"')),
    );
  });

  it('reloads when a file changes, and keeps the last good version of a broken file', async () => {
    fs.writeFileSync(
      path.join(dir, 'all.yaml'),
      manifests(
        '  - backendRefs: [{name: echo, port: 80}]\n    filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-reloaded, value: "yes"}]}}]',
      ),
    );
    await eventually(async () => (await request(port1, '/')).echo?.headers['x-reloaded'] === 'yes');
    fs.writeFileSync(path.join(dir, 'all.yaml'), 'kind: [this is not yaml');
    await eventually(() => output.includes('keeping its last good version'));
    expect((await request(port1, '/')).echo?.headers['x-reloaded']).toBe('yes');
  });

  it('exits cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
