// A client of the audit query API with the user's own kubeconfig credentials (bearer token, exec plugin
// or client certificate), optionally impersonating (`--as`), as kubectl would. The API is found in
// ConfigMap <operator namespace>/tenantgate-audit (url, ca.crt), or given with `server`.
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, isNotFound } from '../../kube/client.ts';
import { defineError } from '../../lib/errors.ts';
import { streamLines } from '../../lib/json-lines.ts';
import { HISTOGRAM_PATH, RECORDS_PATH } from './query-server.ts';
import type { AuditBucket, AuditPage, AuditQuery, StoredAuditRecord } from './store.ts';
import type { WatchEvent } from './watch.ts';

export const AuditWatchDecodeError = defineError(
  'TG_AUDIT_WATCH_DECODE',
  'the audit API sent a watch line that is not an event: %s',
);

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

  /** One page; `latestId`: the newest id when it was read (a watch from there misses nothing). */
  async records(query: AuditQuery): Promise<AuditPage & { latestId: number }> {
    const body = await this.#api.request<{
      items: StoredAuditRecord[];
      metadata: { continue?: string; latestId?: number };
    }>({
      method: 'GET',
      path: RECORDS_PATH,
      query: toParams(query),
    });
    return {
      items: body.items,
      latestId: body.metadata.latestId ?? 0,
      ...(body.metadata.continue ? { continue: body.metadata.continue } : {}),
    };
  }

  /**
   * The records stored after `query.afterId`, as the API streams them, until the stream ends (the server's
   * timeout or shutdown) or `signal` aborts; throws KubeApiError when the API refuses (401, 403, 400).
   */
  async *watch(query: AuditQuery, signal: AbortSignal): AsyncGenerator<WatchEvent> {
    const body = await this.#api.stream(
      RECORDS_PATH,
      { ...toParams(query), watch: 'true' },
      // the server sends a heartbeat every 15 s: a minute of silence is a dead connection
      { signal, idleTimeoutMs: 60_000 },
    );
    for await (const line of streamLines(body)) yield parseEvent(line);
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

function parseEvent(line: string): WatchEvent {
  let event: Partial<WatchEvent> & { object?: { id?: unknown }; afterId?: unknown };
  try {
    event = JSON.parse(line) as typeof event;
  } catch {
    throw new AuditWatchDecodeError([line.slice(0, 200)]);
  }
  if (event.type === 'ADDED' && typeof event.object?.id === 'number') return event as WatchEvent;
  if (event.type === 'BOOKMARK' && typeof event.afterId === 'number') return event as WatchEvent;
  throw new AuditWatchDecodeError([line.slice(0, 200)]);
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
