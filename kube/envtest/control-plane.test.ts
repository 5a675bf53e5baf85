import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SupervisedProcess } from './process.ts';
import { MissingBinaryError, startControlPlane, startWithPortRetry } from './control-plane.ts';
import { projectRoot } from './paths.ts';

describe('startWithPortRetry', () => {
  it('tries again on other ports when a port was taken in between', async () => {
    const seen: number[][] = [];
    const messages: string[] = [];
    const launched = await startWithPortRetry(
      async (ports) => {
        seen.push(ports);
        if (seen.length === 1) throw new Error('listen tcp 127.0.0.1:1234: bind: address already in use');
        return { url: `http://127.0.0.1:${ports[0]}`, process: undefined as unknown as SupervisedProcess };
      },
      2,
      { progress: (m) => messages.push(m) },
    );
    expect(seen).toHaveLength(2);
    expect(seen[1]).toHaveLength(2);
    expect(launched.url).toBe(`http://127.0.0.1:${seen[1]![0]}`);
    expect(messages[0]).toMatch(/port taken .* retrying on other ports/);
  });

  it('gives up after three attempts, and at once on other errors', async () => {
    let calls = 0;
    const busy = async () => {
      calls++;
      throw new Error('bind: address already in use');
    };
    await expect(startWithPortRetry(busy, 1, {})).rejects.toThrow(/address already in use/);
    expect(calls).toBe(3);
    calls = 0;
    const broken = async () => {
      calls++;
      throw new Error('flag provided but not defined');
    };
    await expect(startWithPortRetry(broken, 1, {})).rejects.toThrow(/flag provided/);
    expect(calls).toBe(1);
  });
});

describe('startControlPlane without binaries', () => {
  it('names the missing binary and the command that builds it', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'tg-nobin-'));
    try {
      const err = await startControlPlane({ binDir: empty }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MissingBinaryError);
      expect((err as Error).message).toBe(
        `etcd not found at ${join(empty, 'etcd')}: run \`make tools\` (it builds kube-apiserver, kube-controller-manager, etcd, kubectl and opa into bin/)`,
      );
    } finally {
      rmSync(empty, { recursive: true });
    }
  });
});

describe('SupervisedProcess', () => {
  it('reports an unexpected exit with the last lines of its output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-proc-'));
    try {
      const died = new Promise<Error>((resolve) => {
        new SupervisedProcess({
          name: 'fake-etcd',
          command: 'bash',
          args: [
            '-c',
            'for i in $(seq 1 50); do echo "line $i"; done; echo "fatal: disk on fire" >&2; exit 3',
          ],
          logFile: join(dir, 'log'),
          onUnexpectedExit: resolve,
        });
      });
      const err = await died;
      expect(err.message).toContain('fake-etcd exited (code 3)');
      expect(err.message).toContain('fatal: disk on fire');
      expect(err.message).toContain('line 50');
      expect(err.message).not.toContain('line 5\n'); // only the tail is kept
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  it('does not report an exit it was asked for', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-proc-'));
    let reported = false;
    const p = new SupervisedProcess({
      name: 'sleeper',
      command: 'sleep',
      args: ['30'],
      logFile: join(dir, 'log'),
      onUnexpectedExit: () => (reported = true),
    });
    expect(p.running).toBe(true);
    await p.stop();
    expect(p.running).toBe(false);
    expect(reported).toBe(false);
    rmSync(dir, { recursive: true });
  });
});

describe('hack/build-go-tool.sh', () => {
  it('fails with a clear message when Go is missing', async () => {
    const run = promisify(execFile);
    const err = (await run(
      '/usr/bin/bash',
      [join(projectRoot, 'hack/build-go-tool.sh'), 'etcd', '.', 'x', '/tmp/x'],
      {
        env: { PATH: '/usr/bin:/bin' },
      },
    ).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr).toContain("no 'go' command is on PATH");
    expect(err.stderr).toContain('Install Go >= 1.24');
  });
});
