// A real, throwaway redis-server for tests: its own port and temp dir, no persistence, killed afterwards
// (and on process exit, so a failed test leaves nothing running). `startRedis({ port })` brings one back
// on a port a killed one used, for reconnection tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineError } from '../../lib/errors.ts';
import { freePortOutsideEphemeralRange, startServerProcess } from './server-process.ts';

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

export async function startRedis(options: StartRedisOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePortOutsideEphemeralRange());
  const dir = mkdtempSync(join(tmpdir(), 'tg-redis-'));
  const server = await startServerProcess({
    command: options.binary ?? process.env.REDIS_SERVER ?? 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    dir,
    readyLine: 'Ready to accept connections',
    timeoutMs: options.startTimeoutMs ?? 10_000,
    killSignal: 'SIGKILL',
    startError: (why, cause) => new RedisStartError([port, why], { cause }),
    spawnFailedHint: (err) =>
      err.code === 'ENOENT' ? 'redis-server not found (apt-get install -y redis-server)' : 'spawn failed',
  });
  const kill = async () => {
    if (server.isRunning()) server.child.kill('SIGKILL');
    await server.exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    pid: server.child.pid!,
    kill,
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
