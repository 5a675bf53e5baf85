// `tenantgate local`: a bearer token for the auditors' page. The local admin signs in to the API server
// with a client certificate, which a browser page cannot present; so the local cluster gets a
// ServiceAccount bound to the tenantgate:auditor ClusterRole (every record), and the page's URL carries
// a token for it in its fragment (never sent to a server, dropped from the address bar on load).
import { applyObject } from '../../kube/apply.ts';
import type { KubeClient } from '../../kube/client.ts';
import { AUDITOR_CLUSTER_ROLE, AUDITOR_RULES } from './access.ts';

export const LOCAL_AUDITOR = 'tenantgate-local-auditor';

export async function localAuditorToken(client: KubeClient, namespace: string): Promise<string> {
  const fieldManager = 'tenantgate-local';
  await applyObject(
    client,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: AUDITOR_CLUSTER_ROLE },
      rules: AUDITOR_RULES,
    },
    { fieldManager },
  );
  await applyObject(
    client,
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: LOCAL_AUDITOR, namespace } },
    { fieldManager },
  );
  await applyObject(
    client,
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: LOCAL_AUDITOR },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: AUDITOR_CLUSTER_ROLE },
      subjects: [{ kind: 'ServiceAccount', name: LOCAL_AUDITOR, namespace }],
    },
    { fieldManager },
  );
  const res = await client.request<{ status: { token: string } }>({
    method: 'POST',
    path: `/api/v1/namespaces/${namespace}/serviceaccounts/${LOCAL_AUDITOR}/token`,
    body: {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 86_400 },
    },
  });
  return res.status.token;
}
