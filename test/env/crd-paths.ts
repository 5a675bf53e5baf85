// Where the CRDs to install come from: ours (config/crd) and the Gateway API's, which `make tools` copies
// out of the sigs.k8s.io/gateway-api module (standard channel).
import { join } from 'node:path';
import { defaultBinDir } from '../../kube/envtest/control-plane.ts';

const root = join(import.meta.dirname, '..', '..');

export function crdPaths(binDir = defaultBinDir()): string[] {
  return [join(root, 'config', 'crd'), join(binDir, 'gateway-api-crds', 'current', 'standard')];
}
