// `tenantgate run`: the components against the cluster in KUBECONFIG (or in-cluster config).
import { parseArgs } from 'node:util';
import { loadKubeConfig } from '../../kube/config.ts';
import { onShutdown, untilSignalled } from '../../lib/shutdown.ts';
import { COMPONENT_NAMES, parseComponents, startComponents } from '../components.ts';

const usage = `usage: tenantgate run [options]

Runs tenantgate components against the cluster in KUBECONFIG (or the in-cluster service account).

options:
  --components LIST     comma-separated: ${COMPONENT_NAMES.join(', ')} (default: all)
  --kubeconfig FILE     kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, in-cluster)
  --admin-address A     admin HTTP (/healthz /readyz /metrics) (default 127.0.0.1:9901)
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
      components: { type: 'string', default: COMPONENT_NAMES.join(',') },
      kubeconfig: { type: 'string' },
      'admin-address': { type: 'string', default: '127.0.0.1:9901' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const kubeConfig = loadKubeConfig(values.kubeconfig ? { path: values.kubeconfig } : {});
  const started = await startComponents(parseComponents(values.components), {
    kubeConfig,
    adminAddress: values['admin-address'],
  });
  for (const c of started) onShutdown(c.name, () => c.stop());
  process.stderr.write(`[run] started ${started.map((c) => c.name).join(', ')}\n`);
  await untilSignalled();
  return 0;
}
