// Vitest globalSetup of the `integration` project: one real control plane (etcd + kube-apiserver) for the
// whole run, with our CRDs and the Gateway API CRDs installed. Tests get its kubeconfig through
// `testKubeConfig()` (test/env/test-cluster.ts) and isolate themselves by unique names.
import type { TestProject } from 'vitest/node';
import { startControlPlane } from '../../kube/envtest/control-plane.ts';
import { crdPaths } from '../../kube/envtest/paths.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfigYaml: string;
    kubeconfigPath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const controlPlane = await startControlPlane({
    crdPaths: crdPaths(),
    progress: (m) => process.stderr.write(`[control plane] ${m}\n`),
    // A dead apiserver would make every later test time out one by one; fail the run now, saying why.
    onUnexpectedExit: (err) => {
      process.stderr.write(`\n[control plane] ${err.message}\n`);
      process.exit(1);
    },
  });
  process.stderr.write(
    `[control plane] ready in ${((Date.now() - started) / 1000).toFixed(1)}s at ${controlPlane.server}\n`,
  );
  project.provide('kubeconfigYaml', controlPlane.kubeconfigYaml);
  project.provide('kubeconfigPath', controlPlane.kubeconfigPath);
  return () => controlPlane.stop();
}
