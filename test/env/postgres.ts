// A real, throwaway PostgreSQL server for tests (Debian's postgresql package): initdb into a temp dir,
// `postgres` on a free port, trust authentication on 127.0.0.1 only, stopped afterwards (and killed on
// process exit, so a failed test leaves nothing running).
//
// PostgreSQL refuses to run as root. When the tests run as root (CI containers), initdb and the server run
// as `nobody` through setpriv, in a temp dir chowned to it; otherwise as the current user.
import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defineError } from '../../lib/errors.ts';
import { freePortOutsideEphemeralRange, startServerProcess } from './server-process.ts';

const PostgresStartError = defineError('TG_TEST_POSTGRES_START', 'postgresql on port %s did not start: %s');

export interface PostgresServer {
  readonly port: number;
  /** postgres://tenantgate@127.0.0.1:PORT/tenantgate */
  readonly dsn: string;
  /** a DSN for another database on this server (created on demand by createDatabase) */
  dsnFor(database: string): string;
  createDatabase(name: string): Promise<string>;
  /** fast shutdown and remove the data directory */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** default: the newest /usr/lib/postgresql/N/bin, or $POSTGRES_BIN_DIR */
  binDir?: string;
  /** fsync on commit; default off (tests check behaviour, not power-loss safety; benchmarks turn it on) */
  fsync?: boolean;
  startTimeoutMs?: number;
}

const NOBODY = { uid: 65534, gid: 65534 };

const execFileP = promisify(execFile);

export function postgresBinDir(): string {
  if (process.env.POSTGRES_BIN_DIR) return process.env.POSTGRES_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions[0])
    throw new PostgresStartError([
      '-',
      'no /usr/lib/postgresql/N/bin/postgres (apt-get install -y postgresql)',
    ]);
  return join(root, versions[0], 'bin');
}

/** argv prefix that runs a PostgreSQL binary as an unprivileged user when we are root */
function asUnprivileged(binary: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [binary, args];
  return [
    'setpriv',
    [`--reuid=${NOBODY.uid}`, `--regid=${NOBODY.gid}`, '--clear-groups', '--', binary, ...args],
  ];
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = options.binDir ?? postgresBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'tg-pg-'));
  if (process.getuid?.() === 0) chownSync(dir, NOBODY.uid, NOBODY.gid);
  chmodSync(dir, 0o700);
  const data = join(dir, 'data');
  const port = await freePortOutsideEphemeralRange();
  try {
    const [cmd, args] = asUnprivileged(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'tenantgate',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
      '--no-instructions',
    ]);
    await execFileP(cmd, args, { cwd: dir });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new PostgresStartError([port, `initdb failed: ${(err as Error).message}`], { cause: err });
  }
  const [cmd, args] = asUnprivileged(join(bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir, // the Unix socket in our temp dir, not /var/run/postgresql
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    `fsync=${options.fsync ? 'on' : 'off'}`,
    '-c',
    'max_connections=100',
  ]);
  const server = await startServerProcess({
    command: cmd,
    args,
    cwd: dir,
    dir,
    readyLine: 'database system is ready to accept connections',
    timeoutMs: options.startTimeoutMs ?? 20_000,
    killSignal: 'SIGQUIT', // immediate shutdown: its children exit with it
    startError: (why, cause) => new PostgresStartError([port, why], { cause }),
    spawnFailedHint: () => 'spawn failed (is setpriv installed?)',
  });
  const dsnFor = (db: string) => `postgres://tenantgate@127.0.0.1:${port}/${db}`;
  // initdb made the 'postgres' database; ours is created on first use
  const createDatabase = async (name: string) => {
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: dsnFor('postgres') });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE "${name.replace(/"/g, '')}"`);
    } finally {
      await c.end();
    }
    return dsnFor(name);
  };
  await createDatabase('tenantgate');
  return {
    port,
    dsn: dsnFor('tenantgate'),
    dsnFor,
    createDatabase,
    stop: async () => {
      if (server.isRunning()) server.child.kill('SIGINT'); // fast shutdown
      await server.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
