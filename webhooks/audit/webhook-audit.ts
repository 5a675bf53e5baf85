// The webhook component's audit side: opens the trail (store + optional file) with its defaults, and
// serves the query API and page. Kept apart from webhooks/index.ts, which only calls these two steps.
//
// Defaults: SQLite at <stateDir>/audit/audit.db under `tenantgate local`, beside an explicitly given
// JSON-lines file (NAME.db), /var/lib/tenantgate/audit.db in a Pod, .tenantgate/audit/audit.db otherwise;
// PostgreSQL when TENANTGATE_AUDIT_DSN is set (trail.ts lists the variables). The API listens on
// TENANTGATE_AUDIT_ADDRESS (default 0.0.0.0:9444 in a Pod, 127.0.0.1:0 elsewhere; 'off' for none) and is
// announced in ConfigMap <namespace>/tenantgate-audit (url, caBundle), which `tenantgate audit` reads.
import { dirname, extname, join } from 'node:path';
import type { KubeClient } from '../../kube/client.ts';
import { applyObject } from '../../kube/apply.ts';
import { componentLogger } from '../../lib/logger.ts';
import { errorMessage } from '../../lib/errors.ts';
import type { PolicyEngine } from '../../policies/engine.ts';
import { AuditAccess } from './access.ts';
import { localAuditorToken } from './local-access.ts';
import { PAGE_PATH, startAuditQueryServer, type AuditQueryServer } from './query-server.ts';
import type { Retention } from './store.ts';
import type { WatchOptions } from './watch.ts';
import {
  auditStoreConfigFromEnv,
  openAuditTrail,
  retentionFromEnv,
  type AuditStoreConfig,
  type AuditTrail,
} from './trail.ts';

export const AUDIT_ENDPOINT_CONFIGMAP = 'tenantgate-audit';
export const IN_CLUSTER_AUDIT_DIR = '/var/lib/tenantgate';

export interface WebhookAuditOptions {
  store?: AuditStoreConfig;
  retention?: Retention;
  pruneIntervalMs?: number;
  /** the query API's listen address; 'off' for none */
  apiAddress?: string;
  /** the URL clients use, when not the bound address (an Ingress, a LoadBalancer) */
  publicUrl?: string;
  /** announce the endpoint in ConfigMap tenantgate-audit; default true */
  announce?: boolean;
  /** watch streams: poll interval, heartbeat, how long one lasts (watch.ts) */
  watch?: WatchOptions;
}

export interface WebhookAuditTrail extends AuditTrail {
  serve(ctx: {
    client: KubeClient;
    engine: PolicyEngine;
    certs: () => { certPem: string; keyPem: string; caBundlePem: string };
    local: boolean;
    namespace: string;
    serviceName?: string;
  }): Promise<(AuditQueryServer & { url: string; pageUrl: string }) | undefined>;
}

export async function openWebhookAuditTrail(
  options: WebhookAuditOptions & {
    filePath?: string;
    fileMaxSizeBytes?: number;
    fileMaxFiles?: number;
    stateDir?: string;
  },
): Promise<WebhookAuditTrail> {
  const log = componentLogger('audit');
  const dir = options.stateDir
    ? join(options.stateDir, 'audit')
    : process.env.KUBERNETES_SERVICE_HOST
      ? IN_CLUSTER_AUDIT_DIR
      : '.tenantgate/audit';
  const store =
    options.store ??
    (options.filePath &&
    !options.stateDir &&
    !process.env.TENANTGATE_AUDIT_STORE &&
    !process.env.TENANTGATE_AUDIT_DSN
      ? {
          backend: 'sqlite' as const,
          path: join(dirname(options.filePath), `${baseName(options.filePath)}.db`),
        }
      : auditStoreConfigFromEnv({ dir }));
  const trail = await openAuditTrail({
    store,
    filePath: options.filePath,
    fileMaxSizeBytes: options.fileMaxSizeBytes,
    fileMaxFiles: options.fileMaxFiles,
    retention: options.retention ?? retentionFromEnv(),
    pruneIntervalMs: options.pruneIntervalMs,
  });
  let server: AuditQueryServer | undefined;
  return {
    ...trail,
    record: (r) => trail.record(r),
    close: async (drainMs) => {
      await server?.close();
      await trail.close(drainMs);
    },
    serve: async (ctx) => {
      const address =
        options.apiAddress ??
        process.env.TENANTGATE_AUDIT_ADDRESS ??
        (ctx.local || !process.env.KUBERNETES_SERVICE_HOST ? '127.0.0.1:0' : '0.0.0.0:9444');
      if (address === 'off' || !trail.store) return undefined;
      const clientCaPem = await clusterClientCa(ctx.client).catch((err: unknown) => {
        log.warn('cannot read the cluster client CA; the audit API accepts bearer tokens only', {
          err: errorMessage(err),
        });
        return undefined;
      });
      const certs = ctx.certs();
      server = await startAuditQueryServer({
        store: trail.store,
        access: new AuditAccess(ctx.client),
        tenantNamespaces: (tenant) =>
          Object.entries(ctx.engine.inventory.namespace_tenants)
            .filter(([, t]) => tenant === undefined || t === tenant)
            .map(([ns]) => ns),
        address,
        certPem: certs.certPem,
        keyPem: certs.keyPem,
        ...(clientCaPem ? { clientCaPem } : {}),
        ...(options.watch ? { watch: options.watch } : {}),
      });
      const url =
        options.publicUrl ??
        process.env.TENANTGATE_AUDIT_PUBLIC_URL ??
        (ctx.local || !process.env.KUBERNETES_SERVICE_HOST
          ? `https://127.0.0.1:${server.port}`
          : `https://${ctx.serviceName ?? 'tenantgate-webhook'}.${ctx.namespace}.svc:${server.port}`);
      if (options.announce !== false) {
        await announce(ctx.client, ctx.namespace, url, certs.caBundlePem).catch((err: unknown) =>
          log.warn('cannot announce the audit API in a ConfigMap; clients need --server', {
            err: errorMessage(err),
          }),
        );
      }
      log.info('audit API serving', { address: server.address, url, page: url + PAGE_PATH });
      // tenantgate local: the page's URL signs the local admin in (a token in the fragment)
      let pageUrl = url + PAGE_PATH;
      if (ctx.local) {
        const token = await localAuditorToken(ctx.client, ctx.namespace).catch((err: unknown) => {
          log.warn('cannot make a token for the local auditors page; sign in with your own', {
            err: errorMessage(err),
          });
          return undefined;
        });
        if (token) pageUrl += `#token=${token}`;
      }
      const running = server;
      return {
        address: running.address,
        port: running.port,
        url,
        pageUrl,
        setCertificate: (c, k) => running.setCertificate(c, k),
        close: () => running.close(),
      };
    },
  };
}

/** The CA that signs the cluster's client certificates, as the API server publishes it. */
async function clusterClientCa(client: KubeClient): Promise<string | undefined> {
  const cm = await client.request<{ data?: Record<string, string> }>({
    method: 'GET',
    path: '/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication',
  });
  return cm.data?.['client-ca-file'];
}

async function announce(
  client: KubeClient,
  namespace: string,
  url: string,
  caBundlePem: string,
): Promise<void> {
  await applyObject(
    client,
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: AUDIT_ENDPOINT_CONFIGMAP,
        namespace,
        labels: { 'app.kubernetes.io/name': 'tenantgate', 'app.kubernetes.io/component': 'audit' },
      },
      data: { url, 'ca.crt': caBundlePem },
    },
    { fieldManager: 'tenantgate-audit' },
  );
}

function baseName(path: string): string {
  const file = path.slice(dirname(path).length + 1);
  return file.slice(0, file.length - extname(file).length);
}
