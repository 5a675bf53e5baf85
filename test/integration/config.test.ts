// The deployable configuration (config/default, kustomize; and the config/audit-sqlite overlay) renders
// and is accepted by a real API server: every manifest is valid for the CRDs and built-in kinds it uses
// (server-side dry run, nothing persisted).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createObject } from '../../kube/apply.ts';
import { isAlreadyExists, KubeClient } from '../../kube/client.ts';
import { projectRoot } from '../../kube/envtest/paths.ts';
import { testKubeConfig, testKubeconfigPath } from '../env/test-cluster.ts';

const kubectl = (args: string[], input?: string) =>
  execFileSync(join(projectRoot, 'bin/kubectl'), ['--kubeconfig', testKubeconfigPath(), ...args], {
    encoding: 'utf8',
    ...(input ? { input } : {}),
  });

describe.each(['config/default', 'config/audit-sqlite'])('%s', (dir) => {
  it('renders with kustomize and passes a server-side dry run', async () => {
    const client = new KubeClient({ kubeConfig: testKubeConfig() });
    // a dry run creates nothing, so the namespace its objects live in must exist already
    await createObject(client, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'tenantgate-system' },
    }).catch((err: unknown) => {
      if (!isAlreadyExists(err)) throw err;
    });
    await client.close();
    const rendered = kubectl(['kustomize', join(projectRoot, dir)]);
    const kinds = [...rendered.matchAll(/^kind: (\S+)$/gm)].map((m) => m[1]);
    expect(kinds).toEqual(
      expect.arrayContaining([
        'CustomResourceDefinition',
        'Deployment',
        'ValidatingWebhookConfiguration',
        'GatewayClass',
      ]),
    );
    const out = kubectl(
      ['apply', '--dry-run=server', '--server-side', '--field-manager=config-test', '-f', '-'],
      rendered,
    );
    expect(out.trim().split('\n')).toHaveLength(kinds.length);
    expect(out).toContain('deployment.apps/tenantgate-proxy serverside-applied (server dry run)');
  });
});
