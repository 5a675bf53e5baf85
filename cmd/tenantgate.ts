#!/usr/bin/env node
// The `tenantgate` command: one binary, one subcommand per job. Subcommands load lazily so that, for
// example, `tenantgate proxy` never loads the controllers.
import { errorMessage } from '../lib/errors.ts';

type CommandMain = (argv: string[]) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<{ main: CommandMain }> }> = {
  local: {
    summary: 'start a local control plane (kube-apiserver + etcd from bin/) and run every component on it',
    load: () => import('./commands/local.ts'),
  },
  run: {
    summary: 'run components against the cluster in KUBECONFIG (--components operator,webhook,proxy)',
    load: () => import('./commands/run.ts'),
  },
  proxy: {
    summary: 'run the proxy alone; --from-files DIR reads Gateway API YAML from DIR, no cluster needed',
    load: () => import('./commands/proxy.ts'),
  },
  check: {
    summary: 'evaluate manifests against the policies offline (-f FILE [--tenant NAME] [--data FILE])',
    load: () => import('./commands/check.ts'),
  },
  audit: {
    summary: 'list refused and warned changes (--tenant --user --policy --since -o table|json)',
    load: () => import('./commands/audit.ts'),
  },
  explain: {
    summary: 'which listener, route rule and policies decide a request (--gateway NS/NAME --host H --path P)',
    load: () => import('./commands/explain.ts'),
  },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `usage: tenantgate <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n'tenantgate <command> --help' for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`tenantgate: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  const { main: run } = await command.load();
  return run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tenantgate: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  },
);
