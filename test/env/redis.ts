// A real, throwaway redis-server for tests: its own port and temp dir, no persistence, killed afterwards
// (and on process exit, so a failed test leaves nothing running). `startRedis({ port })` brings one back
// on a port a killed one used, for reconnection tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineError } from '../../lib/errors.ts';

const RedisStartError = defineError('TG_TEST_REDIS_START', 'redis-server on port %s did not start: %s');

export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** SIGKILL: the server vanishes as in a crash (no goodbye to clients) */
  kill(): Promise<void>;
  /** kill and remove the temp dir */
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  /** default: a free port */
  port?: number;
  /** default: REDIS_SERVER or `redis-server` on PATH */
  binary?: string;
  startTimeoutMs?: number;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePortOutsideEphemeralRange());
  const dir = mkdtempSync(join(tmpdir(), 'tg-redis-'));
  const binary = options.binary ?? process.env.REDIS_SERVER ?? 'redis-server';
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));
  try {
    await waitReady(child, port, options.startTimeoutMs ?? 10_000);
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: child.pid!,
    kill,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function waitReady(child: ChildProcess, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    let ready = false;
    const fail = (why: string, cause?: unknown) => {
      clearTimeout(timer);
      reject(new RedisStartError([port, `${why}; output: ${output.slice(-500)}`], { cause }));
    };
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    // Keep draining the pipes after start-up (a full pipe would stall redis), but stop collecting.
    const onData = (chunk: Buffer) => {
      if (ready) return;
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        ready = true;
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => {
      const hint =
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'redis-server not found (apt-get install -y redis-server)'
          : 'spawn failed';
      fail(hint, err);
    });
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal})`));
  });
}

/**
 * A free port below the kernel's ephemeral range. A client reconnecting to a port in that range where
 * nothing listens can be handed that same port as its source and connect to itself (TCP self-connect):
 * ioredis then talks to its own echo and calls it "ready". Real Redis ports (6379) are never there.
 */
export async function freePortOutsideEphemeralRange(): Promise<number> {
  const low = ephemeralRangeStart();
  const lowest = Math.min(10_000, low - 1_000);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = lowest + Math.floor(Math.random() * (low - lowest));
    if (await isFree(port)) return port;
  }
  throw new RedisStartError(['?', `no free port found in ${lowest}-${low - 1}`]);
}

function ephemeralRangeStart(): number {
  try {
    return (
      Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || 32_768
    );
  } catch {
    return 32_768;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
