// A supervised child process of the control plane: its output goes to a log file and the last lines are
// kept in memory, so that when it dies the error can say why.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { defineError } from '../../lib/errors.ts';

export const ProcessExitedError = defineError(
  'TG_ENVTEST_PROCESS_EXITED',
  '%s exited (%s); last lines of %s:\n%s',
);

const TAIL_LINES = 40;

export interface SupervisedProcessOptions {
  name: string;
  command: string;
  args: string[];
  logFile: string;
  /** called once if the process exits without stop() having been called */
  onUnexpectedExit?: (err: InstanceType<typeof ProcessExitedError>) => void;
}

export class SupervisedProcess {
  readonly name: string;
  readonly logFile: string;
  private readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private stopping = false;
  private readonly exited: Promise<string>;

  constructor(options: SupervisedProcessOptions) {
    this.name = options.name;
    this.logFile = options.logFile;
    const log = createWriteStream(options.logFile, { flags: 'a' });
    // the file is a copy for people (the tail below is what errors quote): one that cannot be written —
    // its directory removed while the stream was still opening — must not become an uncaught exception
    log.on('error', () => {});
    // A process group of its own: Ctrl-C in a terminal signals the whole foreground group, and the
    // control plane must outlive the components that still talk to it while they stop (the operator
    // releases its Lease; without the API server that fails and the next run waits for it to expire).
    // stop() and the parent's exit hook end it.
    this.child = spawn(options.command, options.args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let partial = '';
    const collect = (chunk: Buffer) => {
      log.write(chunk);
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      this.tail.push(...lines);
      if (this.tail.length > TAIL_LINES) this.tail.splice(0, this.tail.length - TAIL_LINES);
    };
    this.child.stdout?.on('data', collect);
    this.child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      const done = (how: string) => {
        log.end();
        resolve(how);
        if (!this.stopping) options.onUnexpectedExit?.(this.exitError(how));
      };
      this.child.once('error', (err) => done(`failed to start: ${err.message}`));
      this.child.once('exit', (code, signal) => done(signal ? `signal ${signal}` : `code ${code}`));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.pid !== undefined;
  }

  lastLines(): string {
    return this.tail.join('\n');
  }

  exitError(how: string): InstanceType<typeof ProcessExitedError> {
    return new ProcessExitedError([this.name, how, this.logFile, this.lastLines()]);
  }

  /** Resolves with how it ended when the process exits. */
  whenExited(): Promise<string> {
    return this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopping = true;
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** For process 'exit' hooks, where nothing asynchronous runs. */
  killNow(): void {
    this.stopping = true;
    if (this.running) this.child.kill('SIGKILL');
  }
}
