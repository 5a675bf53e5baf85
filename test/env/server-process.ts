// Starting a real server binary for tests (redis-server, postgres): spawn it, wait for the line it logs
// when ready, and make sure it does not outlive the test process. Also the free-port choice they share.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { defineError } from '../../lib/errors.ts';

const NoFreePortError = defineError('TG_TEST_NO_FREE_PORT', 'no free port found in %s-%s: %s');

export interface ServerProcessOptions {
  command: string;
  args: string[];
  cwd?: string;
  /** the server's temp dir: removed when the start fails and at process exit */
  dir: string;
  /** the log line (stdout or stderr) that says the server accepts connections */
  readyLine: string;
  timeoutMs: number;
  /** the signal that stops the server at once (on a failed start and at process exit) */
  killSignal: NodeJS.Signals;
  /** the error to throw when it does not start; `why` ends with the tail of the server's output */
  startError: (why: string, cause?: unknown) => Error;
  /** what to say when spawn itself fails (e.g. how to install a missing binary) */
  spawnFailedHint: (err: NodeJS.ErrnoException) => string;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  /** resolves when the process has exited */
  readonly exited: Promise<void>;
  /** true until the process has exited */
  isRunning(): boolean;
}

const running = new Map<ChildProcess, { dir: string; killSignal: NodeJS.Signals }>();
process.once('exit', () => {
  for (const [child, { dir, killSignal }] of running) {
    child.kill(killSignal);
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Spawns the server and resolves once it logged `readyLine`; on failure it is stopped and its dir removed. */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const child = spawn(options.command, options.args, {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.set(child, { dir: options.dir, killSignal: options.killSignal });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => running.delete(child));
  try {
    await waitForReadyLine(child, options);
  } catch (err) {
    child.kill(options.killSignal);
    if (child.pid !== undefined) await exited; // a failed spawn never emits 'exit'
    rmSync(options.dir, { recursive: true, force: true });
    throw err;
  }
  return { child, exited, isRunning: () => child.exitCode === null && child.signalCode === null };
}

function waitForReadyLine(child: ChildProcess, options: ServerProcessOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    let ready = false;
    const fail = (why: string, cause?: unknown) => {
      clearTimeout(timer);
      reject(options.startError(`${why}; output: ${output.slice(-800)}`, cause));
    };
    const timer = setTimeout(() => fail(`not ready after ${options.timeoutMs} ms`), options.timeoutMs);
    // keep draining the pipes after start-up (a full pipe would stall the server), but stop collecting
    const onData = (chunk: Buffer) => {
      if (ready) return;
      output += chunk.toString();
      if (output.includes(options.readyLine)) {
        ready = true;
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('error', (err) => fail(options.spawnFailedHint(err as NodeJS.ErrnoException), err));
    child.once('exit', (code, signal) => {
      if (!ready) fail(`exited (${code ?? signal})`);
    });
  });
}

/**
 * A free port below the kernel's ephemeral range. A client reconnecting to a port in that range where
 * nothing listens can be handed that same port as its source and connect to itself (TCP self-connect):
 * ioredis then talks to its own echo and calls it "ready". Real server ports (6379, 5432) are never there.
 */
export async function freePortOutsideEphemeralRange(): Promise<number> {
  const low = ephemeralRangeStart();
  const lowest = Math.min(10_000, low - 1_000);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = lowest + Math.floor(Math.random() * (low - lowest));
    if (await isFree(port)) return port;
  }
  throw new NoFreePortError([lowest, low - 1, 'close servers left over from earlier runs']);
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
