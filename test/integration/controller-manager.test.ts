// The test control plane behaves like a cluster without nodes because kube-controller-manager runs in it:
// new namespaces get their `default` ServiceAccount and the cluster CA (kube-root-ca.crt); a
// service-account token Secret is filled with a token signed by the key the API server verifies with (the
// token authenticates); owner references are garbage-collected; a deleted namespace is emptied and goes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { createObject, deleteObject } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { KINDS } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import { uniqueName } from '../env/names.ts';
import { testKubeConfig } from '../env/test-cluster.ts';
import { eventually, get } from './tenant-fixtures.ts';

const kc = testKubeConfig();
const admin = new KubeClient({ kubeConfig: kc, userAgent: 'tenantgate-tests' });
const namespace = uniqueName('kcm');
const nsRef = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
type WithData = KubeObject & { data?: Record<string, string> };

beforeAll(async () => {
  await createObject(admin, nsRef(namespace));
});

afterAll(async () => {
  await deleteObject(admin, nsRef(namespace)).catch(() => {});
  await admin.close();
});

describe('kube-controller-manager in the test control plane', () => {
  it('gives a new namespace its default ServiceAccount and the cluster CA', async () => {
    await eventually(() => get(admin, KINDS.ServiceAccount, 'default', namespace), {
      what: 'the default ServiceAccount',
    });
    const rootCa = await eventually(
      () => get<WithData>(admin, KINDS.ConfigMap, 'kube-root-ca.crt', namespace),
      {
        what: 'the kube-root-ca.crt ConfigMap',
      },
    );
    const caPem = Buffer.from(kc.getCurrentCluster()!.caData!, 'base64').toString('utf8');
    expect(rootCa.data?.['ca.crt']?.trim()).toBe(caPem.trim());
  });

  it('fills a service-account token Secret with a token the API server accepts', async () => {
    await eventually(() => get(admin, KINDS.ServiceAccount, 'default', namespace), {
      what: 'the default ServiceAccount',
    });
    await createObject(admin, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'default-token',
        namespace,
        annotations: { 'kubernetes.io/service-account.name': 'default' },
      },
      type: 'kubernetes.io/service-account-token',
    });
    const secret = await eventually(
      async () => {
        const s = await get<WithData>(admin, KINDS.Secret, 'default-token', namespace);
        return s?.data?.token ? s : undefined;
      },
      { what: 'the token controller filling the Secret' },
    );
    const token = Buffer.from(secret.data!.token!, 'base64').toString('utf8');
    const cluster = kc.getCurrentCluster()!;
    const asServiceAccount = new KubeConfig();
    asServiceAccount.loadFromOptions({
      clusters: [{ name: 'c', server: cluster.server, caData: cluster.caData }],
      users: [{ name: 'sa', token }],
      contexts: [{ name: 'sa', cluster: 'c', user: 'sa' }],
      currentContext: 'sa',
    });
    const client = new KubeClient({ kubeConfig: asServiceAccount, userAgent: 'tenantgate-tests' });
    try {
      const review = await client.request<{ status: { userInfo: { username: string } } }>({
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      });
      expect(review.status.userInfo.username).toBe(`system:serviceaccount:${namespace}:default`);
    } finally {
      await client.close();
    }
  });

  it('collects objects whose owner is gone, and removes a deleted namespace with its contents', async () => {
    const parent = await createObject<KubeObject>(admin, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'parent', namespace },
    });
    await createObject(admin, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'child',
        namespace,
        ownerReferences: [
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'parent', uid: parent.metadata!.uid! },
        ],
      },
    });
    await deleteObject(admin, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'parent', namespace },
    });
    await eventually(async () => (await get(admin, KINDS.ConfigMap, 'child', namespace)) === undefined, {
      what: 'the garbage collector deleting the child',
      timeoutMs: 30_000,
    });

    const doomed = uniqueName('kcm-doomed');
    await createObject(admin, nsRef(doomed));
    await createObject(admin, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'x', namespace: doomed },
    });
    await deleteObject(admin, nsRef(doomed));
    await eventually(async () => (await get(admin, KINDS.Namespace, doomed)) === undefined, {
      what: 'the namespace controller removing the namespace',
      timeoutMs: 30_000,
    });
  });
});
