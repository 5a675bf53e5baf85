// Access to the run's control plane from inside an integration test.
import { KubeConfig } from '@kubernetes/client-node';
import { inject } from 'vitest';

/** An admin KubeConfig (client cert in system:masters: may impersonate anyone). */
export function testKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(inject('kubeconfigYaml'));
  return kc;
}

/** Path of the kubeconfig file, for child processes (KUBECONFIG=...) and kubectl. */
export function testKubeconfigPath(): string {
  return inject('kubeconfigPath');
}
