// `tenantgate run --components operator` (or other components) as a child process on a free admin port,
// for the integration tests and the onboarding benchmark (both run the real binary entry point, unbuilt).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../kube/envtest/paths.ts';
import { freePorts } from '../../kube/envtest/ports.ts';

export interface SpawnedOperator {
  proc: ChildProcess;
  /** host:port of its /healthz, /readyz and /metrics */
  adminAddress: string;
}

export async function spawnOperatorProcess(options: {
  kubeconfigPath: string;
  /** added to this process's environment */
  env: Record<string, string>;
  /** what becomes of the child's stderr (stdout is ignored) */
  stderr: 'pipe' | 'inherit';
  /** --components; default operator */
  components?: string;
}): Promise<SpawnedOperator> {
  const [port] = await freePorts(1);
  const adminAddress = `127.0.0.1:${port}`;
  const proc = spawn(
    process.execPath,
    [
      join(projectRoot, 'cmd/tenantgate.ts'),
      'run',
      '--components',
      options.components ?? 'operator',
      '--kubeconfig',
      options.kubeconfigPath,
      '--admin-address',
      adminAddress,
    ],
    {
      cwd: projectRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'ignore', options.stderr],
    },
  );
  return { proc, adminAddress };
}
