// A client of the audit query API with the user's own kubeconfig credentials (bearer token, exec plugin
// or client certificate), optionally impersonating (`--as`), as kubectl would. The API is found in
// ConfigMap <operator namespace>/tenantgate-audit (url, ca.crt), or given with `server`.
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, isNotFound } from '../../kube/client.ts';
import { defineError } from '../../lib/errors.ts';
import { HISTOGRAM_PATH, RECORDS_PATH } from './query-server.ts';
import type { AuditBucket, AuditPage, AuditQuery, StoredAuditRecord } from './store.ts';

export const AuditApiNotFoundError = defineError(
  'TG_AUDIT_API_NOT_FOUND',
  'no audit API announced: ConfigMap %s/tenantgate-audit does not exist (is the webhook running?); pass --server URL, or --file for a local log',
);

export interface AuditApiClientOptions {
  kubeConfig: KubeConfig;
  /** the API's base URL; default: from the ConfigMap */
  server?: string;
  /** PEM of the CA that signed the API's serving certificate; default: from the ConfigMap */
  caPem?: string;
  /** the operator's namespace, where the ConfigMap is */
  namespace: string;
  impersonate?: { user: string; groups?: string[] };
}

export class AuditApiClient {
  readonly #api: KubeClient;
  readonly server: string;

  private constructor(api: KubeClient, server: string) {
    this.#api = api;
    this.server = server;
  }

  static async connect(options: AuditApiClientOptions): Promise<AuditApiClient> {
    let server = options.server;
    let caPem = options.caPem;
    if (!server) {
      const kube = new KubeClient({ kubeConfig: options.kubeConfig, userAgent: 'tenantgate-audit' });
      try {
        const cm = await kube.request<{ data?: Record<string, string> }>({
          method: 'GET',
          path: `/api/v1/namespaces/${options.namespace}/configmaps/tenantgate-audit`,
        });
        server = cm.data?.url;
        caPem ??= cm.data?.['ca.crt'] || undefined;
      } catch (err) {
        if (isNotFound(err)) throw new AuditApiNotFoundError([options.namespace]);
        throw err;
      } finally {
        await kube.close();
      }
      if (!server) throw new AuditApiNotFoundError([options.namespace]);
    }
    const api = new KubeClient({
      kubeConfig: retarget(options.kubeConfig, server, caPem),
      userAgent: 'tenantgate-audit',
      ...(options.impersonate ? { impersonate: options.impersonate } : {}),
    });
    return new AuditApiClient(api, server.replace(/\/+$/, ''));
  }

  async records(query: AuditQuery): Promise<AuditPage> {
    const body = await this.#api.request<{ items: StoredAuditRecord[]; metadata: { continue?: string } }>({
      method: 'GET',
      path: RECORDS_PATH,
      query: toParams(query),
    });
    return { items: body.items, ...(body.metadata.continue ? { continue: body.metadata.continue } : {}) };
  }

  async histogram(query: AuditQuery, by: 'policy' | 'tenant', bucketSeconds: number): Promise<AuditBucket[]> {
    const body = await this.#api.request<{ buckets: AuditBucket[] }>({
      method: 'GET',
      path: HISTOGRAM_PATH,
      query: { ...toParams(query), by, bucket: bucketSeconds },
    });
    return body.buckets;
  }

  close(): Promise<void> {
    return this.#api.close();
  }
}

function toParams(q: AuditQuery): Record<string, string | number | undefined> {
  return {
    tenant: q.tenant,
    namespace: q.namespace,
    user: q.user,
    policy: q.policy,
    action: q.action,
    kind: q.kind,
    since: q.since?.toISOString(),
    until: q.until?.toISOString(),
    limit: q.limit,
    continue: q.continue,
    order: q.order,
    afterId: q.afterId,
  };
}

/** The same user credentials, pointed at another server with its own CA. */
function retarget(kc: KubeConfig, server: string, caPem: string | undefined): KubeConfig {
  const user = kc.getCurrentUser();
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: [
      {
        name: 'tenantgate-audit',
        server,
        skipTLSVerify: false,
        ...(caPem ? { caData: Buffer.from(caPem).toString('base64') } : {}),
      },
    ],
    users: user ? [user] : [],
    contexts: [{ name: 'tenantgate-audit', cluster: 'tenantgate-audit', user: user?.name ?? '' }],
    currentContext: 'tenantgate-audit',
  });
  return out;
}
