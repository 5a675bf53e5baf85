// The control plane itself: a dying kube-apiserver is reported with its last log lines, stop() leaves
// neither processes nor files behind; `tenantgate local` serves a cluster kubectl can use, runs every
// component on it (the samples onboard a tenant that serves traffic), and cleans up on Ctrl-C and on a
// failed start.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startControlPlane } from '../../kube/envtest/control-plane.ts';
import { projectRoot } from '../../kube/envtest/paths.ts';
import { freePort, request } from '../e2e/proxy-harness.ts';

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

interface LocalProcess {
  dir: string;
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  kubectl(args: string[], input?: string): string;
  /** what Ctrl-C in a terminal does: SIGINT to every process of the foreground group */
  ctrlC(): void;
  /** resolves when `tenantgate local` printed its "Try it" text */
  started(): Promise<void>;
  exited(): Promise<number | null>;
  /** etcd / kube-apiserver / kube-controller-manager processes of this instance still running */
  leftovers(): string[];
  cleanup(): void;
}

/** `tenantgate local` as a child process, in a fresh state directory unless given one to run over. */
function startLocal(args: string[], keptDir?: string, env: Record<string, string> = {}): LocalProcess {
  const dir = keptDir ?? mkdtempSync(join(tmpdir(), 'tg-local-'));
  const child = spawn(
    join(projectRoot, 'node_modules/.bin/node'),
    [
      join(projectRoot, 'cmd/tenantgate.ts'),
      'local',
      '--dir',
      dir,
      '--admin-address',
      '127.0.0.1:0',
      ...args,
    ],
    // a process group of its own, like a job in a terminal: ctrlC() signals the whole group
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, detached: true },
  );
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (c: Buffer) => (output.stdout += c));
  child.stderr!.on('data', (c: Buffer) => (output.stderr += c));
  const exit = new Promise<number | null>((r) => child.once('exit', r));
  return {
    dir,
    child,
    output,
    kubectl: (kubectlArgs, input) =>
      execFileSync(
        join(projectRoot, 'bin/kubectl'),
        ['--kubeconfig', join(dir, 'kubeconfig'), ...kubectlArgs],
        {
          encoding: 'utf8',
          ...(input ? { input } : {}),
        },
      ),
    started: () =>
      eventually(() => output.stdout.includes('Ctrl-C stops everything'), 60_000).catch(() => {
        throw new Error(`tenantgate local did not start:\n${output.stderr}`);
      }),
    exited: () => exit,
    ctrlC: () => process.kill(-child.pid!, 'SIGINT'),
    leftovers: () =>
      execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
        .split('\n')
        .filter(
          (line) => /\/(etcd|kube-apiserver|kube-controller-manager) /.test(line) && line.includes(dir),
        ),
    cleanup: () => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('control plane', () => {
  it('reports a kube-apiserver that dies with the last lines of its log, and cleans up on stop', async () => {
    let died: Error | undefined;
    const cp = await startControlPlane({ onUnexpectedExit: (err) => (died = err) });
    const pids = cp.pids();
    expect(alive(pids['etcd'])).toBe(true);
    expect(alive(pids['kube-apiserver'])).toBe(true);
    expect(alive(pids['kube-controller-manager'])).toBe(true);
    process.kill(pids['kube-apiserver']!, 'SIGKILL');
    await eventually(() => died !== undefined);
    expect(died!.message).toMatch(
      /^kube-apiserver exited \(signal SIGKILL\); last lines of .*kube-apiserver\.log:\n/,
    );
    expect(died!.message.split('\n').length).toBeGreaterThan(3);
    await cp.stop();
    expect(alive(pids['etcd'])).toBe(false);
    expect(alive(pids['kube-controller-manager'])).toBe(false);
    expect(existsSync(cp.dir)).toBe(false);
  });

  it('tenantgate local serves a cluster kubectl can use and stops everything on SIGINT', async () => {
    const local = startLocal(['--components', '', '--echo-address', 'off']);
    try {
      await local.started();
      expect(local.output.stdout).toContain(`export KUBECONFIG=`);
      const crds = local.kubectl(['get', 'crd', '-o', 'name']);
      expect(crds).toContain('customresourcedefinition.apiextensions.k8s.io/tenants.tenantgate.io');
      expect(crds).toContain(
        'customresourcedefinition.apiextensions.k8s.io/httproutes.gateway.networking.k8s.io',
      );
      const version = JSON.parse(local.kubectl(['version', '-o', 'json'])) as {
        serverVersion: { gitVersion: string };
      };
      const pinned = /KUBE_VERSION\s*:=\s*(\S+)/.exec(
        readFileSync(join(projectRoot, 'versions.mk'), 'utf8'),
      )![1];
      expect(version.serverVersion.gitVersion).toBe(`v${pinned}`);
      local.child.kill('SIGINT');
      expect(await local.exited()).toBe(0);
      expect(local.leftovers()).toEqual([]);
    } finally {
      local.cleanup();
    }
  });

  it('tenantgate local runs every component: the samples onboard a tenant that serves traffic', async () => {
    // The samples as a user applies them, on free ports instead of the documented 10080 (the Gateway's port
    // 80 + 10000) and 18080 (the echo backend), so that a run never collides with anything else listening.
    const [gatewayPort, echoPort] = [await freePort(), await freePort()];
    const samples = (folder: string, rewrite: (yaml: string) => string) => {
      const dir = join(projectRoot, 'config/samples', folder);
      const files = readdirSync(dir)
        .filter((f) => f.endsWith('.yaml'))
        .sort();
      return rewrite(files.map((f) => readFileSync(join(dir, f), 'utf8')).join('\n---\n'));
    };
    const platform = samples('platform', (yaml) =>
      yaml.replace(/^(\s+- name: http\n\s+port: )80$/m, `$1${gatewayPort}`),
    );
    const tenant = samples('tenant', (yaml) => yaml.replaceAll('18080', String(echoPort)));
    expect(platform).toContain(`port: ${gatewayPort}`);
    expect(tenant).toContain(`port: ${echoPort}`);
    const local = startLocal(['--echo-address', `127.0.0.1:${echoPort}`]);
    // fetch() may not set Host: a plain http request may
    const curl = () =>
      request(gatewayPort, '/hello', { host: 'acme.example.com' }).then(
        (r) => r.status,
        () => undefined,
      );
    try {
      await local.started();
      local.kubectl(['apply', '-f', '-'], platform);
      await eventually(
        () => local.kubectl(['get', 'tenant', 'acme', '-o', 'jsonpath={.status.namespacesReady}']) === '2/2',
        30_000,
      );
      local.kubectl(['apply', '-f', '-'], tenant);
      let status: number | undefined;
      await eventually(() => {
        void curl().then((s) => (status = s));
        return status === 200;
      }, 30_000);
      // the sample RateLimitPolicy allows 5 per second per client: 20 requests at once cannot all fit,
      // however slow the machine
      const codes = await Promise.all(Array.from({ length: 20 }, () => curl()));
      expect(codes).toContain(429);
      // the webhook refuses, as the tenant's owner, a route for a hostname the tenant was not given
      const sneaky = JSON.stringify({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'sneaky', namespace: 'acme-web' },
        spec: {
          hostnames: ['bank.example.org'],
          parentRefs: [{ name: 'shared', namespace: 'infra', sectionName: 'http' }],
        },
      });
      let refusal = '';
      try {
        local.kubectl(['--as', 'alice', 'apply', '-f', '-'], sneaky);
      } catch (err) {
        refusal = String((err as { stderr?: string }).stderr);
      }
      expect(refusal).toContain('denied the request');
      expect(refusal).toContain(
        "[route-hostnames] spec.hostnames[0] 'bank.example.org' is not among tenant 'acme' hostnames",
      );
      local.child.kill('SIGINT');
      expect(await local.exited()).toBe(0);
      expect(local.leftovers()).toEqual([]);
    } finally {
      local.cleanup();
    }
  });

  it('tenantgate local run again over kept state reconciles at once', async () => {
    const args = ['--components', 'operator', '--echo-address', 'off'];
    const tenant = (name: string) =>
      JSON.stringify({
        apiVersion: 'tenantgate.io/v1alpha1',
        kind: 'Tenant',
        metadata: { name },
        spec: { namespaces: [{ name: `${name}-web` }] },
      });
    type Lease = { spec: { holderIdentity: string; leaseTransitions: number } };
    const lease = (local: LocalProcess) =>
      JSON.parse(
        local.kubectl(['get', 'lease', '-n', 'tenantgate-system', 'tenantgate-operator', '-o', 'json']),
      ) as Lease;
    const ready = (local: LocalProcess, name: string) =>
      local.kubectl(['get', 'tenant', name, '-o', 'jsonpath={.status.conditions[0].status}']) === 'True';

    // info: the log says whether the Lease was released
    const env = { TENANTGATE_LOG_LEVEL: 'info' };
    const first = startLocal(args, undefined, env);
    let second: LocalProcess | undefined;
    try {
      await first.started();
      first.kubectl(['apply', '-f', '-'], tenant('first'));
      await eventually(() => ready(first, 'first'), 30_000);
      const before = lease(first);
      first.ctrlC();
      expect(await first.exited()).toBe(0);
      // the control plane (not in the terminal's process group) outlived the operator: the Lease was given up
      expect(first.output.stderr).toContain('released the lease');

      second = startLocal(args, first.dir, env);
      await second.started();
      const started = Date.now();
      second.kubectl(['apply', '-f', '-'], tenant('second'));
      // the Lease lasts 15 s: reconciling well within it means nobody waited for it to expire
      await eventually(() => ready(second!, 'second'), 10_000);
      expect(Date.now() - started).toBeLessThan(10_000);
      const after = lease(second);
      // the same holder, from the state directory, which took the released Lease once more
      expect(after.spec.holderIdentity).toBe(before.spec.holderIdentity);
      expect(after.spec.holderIdentity).toBe(readFileSync(join(first.dir, 'identity'), 'utf8').trim());
      expect(after.spec.leaseTransitions).toBe(before.spec.leaseTransitions + 1);
      expect(ready(second, 'first')).toBe(true);
      second.ctrlC();
      expect(await second.exited()).toBe(0);
      expect(second.leftovers()).toEqual([]);
    } finally {
      second?.cleanup();
      first.cleanup();
    }
  });

  it('tenantgate local stops what it started when startup fails (echo port taken)', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const taken = (busy.address() as net.AddressInfo).port;
    const local = startLocal(['--components', '', '--echo-address', `127.0.0.1:${taken}`]);
    try {
      expect(await local.exited()).toBe(1);
      expect(local.output.stderr).toContain(`address already in use 127.0.0.1:${taken}`);
      expect(local.leftovers()).toEqual([]);
    } finally {
      local.cleanup();
      busy.close();
    }
  });
});
