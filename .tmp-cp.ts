import { startControlPlane } from './kube/envtest/control-plane.ts';
import { crdPaths } from './kube/envtest/paths.ts';
import { writeFileSync } from 'node:fs';
const cp = await startControlPlane({ dir: '/tmp/tgdev/cluster', crdPaths: crdPaths(), progress: (m) => console.error(m) });
writeFileSync('/tmp/tgdev/kubeconfig', cp.kubeconfigYaml);
console.error('READY', cp.server);
process.on('SIGTERM', async () => { await cp.stop(); process.exit(0); });
setInterval(() => {}, 1 << 30);
