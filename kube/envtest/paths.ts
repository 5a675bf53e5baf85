// Where a local control plane finds its parts: the binaries `make tools` builds into bin/, our CRDs
// (config/crd) and the Gateway API's standard channel, which `make tools` copies out of the
// sigs.k8s.io/gateway-api Go module into bin/.
import { join } from 'node:path';

/** The project root, whether running from source (kube/envtest/) or compiled (dist/kube/envtest/). */
export const projectRoot = join(
  import.meta.dirname,
  import.meta.dirname.includes('/dist/') ? '../../..' : '../..',
);

export function defaultBinDir(): string {
  return process.env.TENANTGATE_BIN_DIR ?? join(projectRoot, 'bin');
}

export function crdPaths(binDir = defaultBinDir()): string[] {
  return [join(projectRoot, 'config', 'crd'), join(binDir, 'gateway-api-crds', 'current', 'standard')];
}
