// The control plane itself: a dying kube-apiserver is reported with its last log lines, stop() leaves
// neither processes nor files behind, and `tenantgate local` cleans up on Ctrl-C.
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startControlPlane } from '../../kube/envtest/control-plane.ts';
import { projectRoot } from '../../kube/envtest/paths.ts';
import { request } from '../e2e/proxy-harness.ts';

const alive = (pid: number | undefined) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function eventually(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('control plane', () => {
  it('reports a kube-apiserver that dies with the last lines of its log, and cleans up on stop', async () => {
    let died: Error | undefined;
    const cp = await startControlPlane({ onUnexpectedExit: (err) => (died = err) });
    const pids = cp.pids();
    expect(alive(pids['etcd'])).toBe(true);
    expect(alive(pids['kube-apiserver'])).toBe(true);
    process.kill(pids['kube-apiserver']!, 'SIGKILL');
    await eventually(() => died !== undefined);
    expect(died!.message).toMatch(
      /^kube-apiserver exited \(signal SIGKILL\); last lines of .*kube-apiserver\.log:\n/,
    );
    expect(died!.message.split('\n').length).toBeGreaterThan(3);
    await cp.stop();
    expect(alive(pids['etcd'])).toBe(false);
    expect(existsSync(cp.dir)).toBe(false);
  });

  it('tenantgate local serves a cluster kubectl can use and stops everything on SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-local-'));
    const child = spawn(
      join(projectRoot, 'node_modules/.bin/node'),
      [
        join(projectRoot, 'cmd/tenantgate.ts'),
        'local',
        '--dir',
        dir,
        '--components',
        '',
        '--admin-address',
        '127.0.0.1:0',
        '--echo-address',
        'off',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    try {
      await eventually(() => stdout.includes('Ctrl-C stops everything'), 45_000).catch(() => {
        throw new Error(`tenantgate local did not start:\n${stderr}`);
      });
      const kubeconfig = join(dir, 'kubeconfig');
      expect(stdout).toContain(`export KUBECONFIG=`);
      const crds = execFileSync(
        join(projectRoot, 'bin/kubectl'),
        ['--kubeconfig', kubeconfig, 'get', 'crd', '-o', 'name'],
        { encoding: 'utf8' },
      );
      expect(crds).toContain('customresourcedefinition.apiextensions.k8s.io/tenants.tenantgate.io');
      expect(crds).toContain(
        'customresourcedefinition.apiextensions.k8s.io/httproutes.gateway.networking.k8s.io',
      );
      const version = JSON.parse(
        execFileSync(
          join(projectRoot, 'bin/kubectl'),
          ['--kubeconfig', kubeconfig, 'version', '-o', 'json'],
          { encoding: 'utf8' },
        ),
      ) as { serverVersion: { gitVersion: string } };
      const pinned = /KUBE_VERSION\s*:=\s*(\S+)/.exec(
        readFileSync(join(projectRoot, 'versions.mk'), 'utf8'),
      )![1];
      expect(version.serverVersion.gitVersion).toBe(`v${pinned}`);
      child.kill('SIGINT');
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      expect(code).toBe(0);
      const leftovers = execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => /\/(etcd|kube-apiserver) /.test(line) && line.includes(dir));
      expect(leftovers).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tenantgate local runs every component: the samples onboard a tenant that serves traffic', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-local-all-'));
    const child = spawn(
      join(projectRoot, 'node_modules/.bin/node'),
      [join(projectRoot, 'cmd/tenantgate.ts'), 'local', '--dir', dir, '--admin-address', '127.0.0.1:0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c));
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    const kubectl = (...args: string[]) =>
      execFileSync(join(projectRoot, 'bin/kubectl'), ['--kubeconfig', join(dir, 'kubeconfig'), ...args], {
        encoding: 'utf8',
      });
    // fetch() may not set Host: a plain http request may
    const curl = () =>
      request(10080, '/hello', { host: 'acme.example.com' }).then(
        (r) => r.status,
        () => undefined,
      );
    try {
      await eventually(() => stdout.includes('Ctrl-C stops everything'), 60_000).catch(() => {
        throw new Error(`tenantgate local did not start:\n${stderr}`);
      });
      kubectl('apply', '-f', join(projectRoot, 'config/samples/platform/'));
      await eventually(
        () => kubectl('get', 'tenant', 'acme', '-o', 'jsonpath={.status.namespacesReady}') === '2/2',
        30_000,
      );
      kubectl('apply', '-f', join(projectRoot, 'config/samples/tenant/'));
      let status: number | undefined;
      await eventually(() => {
        void curl().then((s) => (status = s));
        return status === 200;
      }, 30_000);
      // the sample RateLimitPolicy allows 5 per second per client
      const codes: (number | undefined)[] = [];
      for (let i = 0; i < 8; i++) codes.push(await curl());
      expect(codes).toContain(429);
      // the webhook refuses, as the tenant's owner, a route for a hostname the tenant was not given
      let refusal = '';
      try {
        execFileSync(
          join(projectRoot, 'bin/kubectl'),
          ['--kubeconfig', join(dir, 'kubeconfig'), '--as', 'alice', 'apply', '-f', '-'],
          {
            encoding: 'utf8',
            input: JSON.stringify({
              apiVersion: 'gateway.networking.k8s.io/v1',
              kind: 'HTTPRoute',
              metadata: { name: 'sneaky', namespace: 'acme-web' },
              spec: {
                hostnames: ['bank.example.org'],
                parentRefs: [{ name: 'shared', namespace: 'infra', sectionName: 'http' }],
              },
            }),
          },
        );
      } catch (err) {
        refusal = String((err as { stderr?: string }).stderr);
      }
      expect(refusal).toContain('denied the request');
      expect(refusal).toContain(
        "[route-hostnames] spec.hostnames[0] 'bank.example.org' is not among tenant 'acme' hostnames",
      );
      child.kill('SIGINT');
      expect(await new Promise<number | null>((r) => child.once('exit', r))).toBe(0);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('tenantgate local stops what it started when startup fails (echo port taken)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-local-fail-'));
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const taken = (busy.address() as net.AddressInfo).port;
    const child = spawn(
      join(projectRoot, 'node_modules/.bin/node'),
      [
        join(projectRoot, 'cmd/tenantgate.ts'),
        'local',
        '--dir',
        dir,
        '--components',
        '',
        '--admin-address',
        '127.0.0.1:0',
        '--echo-address',
        `127.0.0.1:${taken}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c));
    try {
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      expect(code).toBe(1);
      expect(stderr).toContain(`address already in use 127.0.0.1:${taken}`);
      const leftovers = execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => /\/(etcd|kube-apiserver) /.test(line) && line.includes(dir));
      expect(leftovers).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      busy.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
