// `tenantgate local`: the embedded default. Starts a control plane (etcd, kube-apiserver and
// kube-controller-manager from bin/), installs the Gateway API and tenantgate CRDs, runs every component
// against it, writes .tenantgate/local/kubeconfig and says what to try next. Ctrl-C stops everything and
// cleans up: the components first (the operator releases its Lease), then the control plane, which runs
// in process groups of its own so that the terminal's Ctrl-C does not stop it under them.
// Cluster data is kept in .tenantgate/local/ between runs (--reset starts afresh), and with it the Lease
// holder identity, so that a restart reconciles at once.
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../../kube/envtest/control-plane.ts';
import { onShutdown, shutdown, untilSignalled } from '../../lib/shutdown.ts';
import { crdPaths } from '../../kube/envtest/paths.ts';
import { COMPONENT_NAMES, parseComponents, startComponents } from '../components.ts';
import { startEchoBackend } from '../echo-backend.ts';
import { parseHostPort } from '../../lib/admin-server.ts';

/** A TEST-NET-2 address (RFC 5737) that local backends are published under; see address-map.ts. */
export const LOCAL_BACKEND_ADDRESS = '198.51.100.10';

const usage = `usage: tenantgate local [options]

Starts a local Kubernetes control plane (etcd, kube-apiserver, kube-controller-manager built into bin/ by
'make tools'), installs the CRDs, runs the tenantgate components against it and stays in the foreground
until Ctrl-C. A run over a kept state directory reconciles at once (the same Lease holder).

options:
  --dir DIR             state directory (default .tenantgate/local); the kubeconfig is DIR/kubeconfig
  --reset               delete the state directory (cluster data, Lease identity) first
  --components LIST     components to run (default ${COMPONENT_NAMES.join(',')})
  --admin-address A     admin HTTP (/healthz /readyz /metrics) (default 127.0.0.1:9901)
  --bin-dir DIR         where kube-apiserver, kube-controller-manager, etcd, kubectl live (default ./bin)
  --echo-address A      an echo backend for config/samples/tenant/ (default 127.0.0.1:18080; 'off': none).
                        The sample publishes it as ${LOCAL_BACKEND_ADDRESS} (the API server refuses loopback
                        endpoints); the local proxy maps that address to this one's host.
  -h, --help

The proxy component reads its settings from the environment (see \`tenantgate proxy --help\`): request
paths TENANTGATE_MERGE_SLASHES (true) and TENANTGATE_ESCAPED_SLASHES (reject | keep |
unescape-and-redirect); policies TENANTGATE_RATE_LIMIT_REDIS, TENANTGATE_RATE_LIMIT_FAIL_MODE,
TENANTGATE_RATE_LIMIT_HEADERS, TENANTGATE_GATEWAY_LIMIT_SCOPE, TENANTGATE_POLICY_CONFIG.
`;

export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      dir: { type: 'string', default: '.tenantgate/local' },
      reset: { type: 'boolean', default: false },
      components: { type: 'string', default: COMPONENT_NAMES.join(',') },
      'admin-address': { type: 'string', default: '127.0.0.1:9901' },
      'bin-dir': { type: 'string' },
      'echo-address': { type: 'string', default: '127.0.0.1:18080' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const components = parseComponents(values.components);
  const dir = resolve(values.dir);
  if (values.reset) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const say = (m: string) => process.stderr.write(`[local] ${m}\n`);

  say(`starting the control plane in ${relative(process.cwd(), dir) || '.'}`);
  const controlPlane = await startControlPlane({
    dir: join(dir, 'cluster'),
    ...(values['bin-dir'] ? { binDir: values['bin-dir'] } : {}),
    crdPaths: crdPaths(values['bin-dir']),
    progress: say,
    onUnexpectedExit: (err) => {
      say(err.message);
      process.exit(1);
    },
  });
  onShutdown('control plane', () => controlPlane.stop());
  const kubeconfig = join(dir, 'kubeconfig');
  copyFileSync(controlPlane.kubeconfigPath, kubeconfig);

  const stopping = untilSignalled();
  let hints: string[] = [];
  try {
    // the echo backend first: a taken port is found before anything else starts
    if (values['echo-address'] !== 'off') {
      const echo = await startEchoBackend(values['echo-address']);
      onShutdown('echo backend', () => echo.close());
    }
    const started = await startComponents(components, {
      kubeConfig: controlPlane.kubeConfig(),
      adminAddress: values['admin-address'],
      local: {
        stateDir: dir,
        caPem: controlPlane.caPem,
        identity: stateIdentity(dir),
        ...(values['echo-address'] !== 'off'
          ? { endpointAddressMap: { [LOCAL_BACKEND_ADDRESS]: parseHostPort(values['echo-address']).host } }
          : {}),
      },
    });
    for (const c of started) onShutdown(c.name, () => c.stop());
    hints = started.flatMap((c) => c.hints ?? []);
  } catch (err) {
    // the control plane's processes would keep this process (and themselves) alive
    await shutdown('startup failed');
    throw err;
  }

  // relative when under the working directory (as with the default), so the hint can be pasted
  const rel = kubeconfig.startsWith(process.cwd() + '/') ? relative(process.cwd(), kubeconfig) : kubeconfig;
  process.stdout.write(
    [
      '',
      `tenantgate is running locally: API server ${controlPlane.server}; components: ${components.join(', ')}`,
      '',
      'Try it:',
      `  export KUBECONFIG=${rel}`,
      '  bin/kubectl get crds',
      '  bin/kubectl apply -f config/samples/platform/       # GatewayClass, shared Gateway, Tenant acme',
      '  bin/kubectl get tenants                             # wait for Ready=True',
      '  bin/kubectl apply -f config/samples/tenant/         # as the tenant: Service, HTTPRoute, RateLimitPolicy',
      ...hints.map((h) => `  ${h}`),
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
  await stopping;
  return 0;
}

/**
 * The Lease holder identity of the components run over this state directory, made once and kept there:
 * a run over kept state is the same holder as the last one, so it leads at once even when the last run
 * could not release its Lease (killed), instead of waiting for the Lease to expire.
 */
export function stateIdentity(dir: string): string {
  const file = join(dir, 'identity');
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept) return kept;
  }
  const identity = `local_${hostname()}_${randomBytes(4).toString('hex')}`;
  writeFileSync(file, `${identity}\n`);
  return identity;
}
