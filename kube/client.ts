// KubeClient: the HTTP transport to the API server, shared by everything in a process.
//
//   const client = new KubeClient({ kubeConfig: loadKubeConfig() });
//   const ns = await client.get(KINDS.Namespace, { name: 'acme-web' });      // undefined on 404
//   const list = await client.list(KINDS.RoleBinding, { namespace: 'acme-web', labelSelector: 'a=b' });
//   await client.request({ method: 'POST', path, body });                     // anything else
//   writes: kube/apply.ts; watches: kube/informer.ts; errors: KubeApiError + isNotFound()/isConflict()...
//
// Why not client-node's generated clients: client-node 2.0.1 builds a new undici Agent (so a new TCP+TLS
// connection) for every request and re-reads cert files each time. Here authentication still comes from
// client-node's KubeConfig (certs, tokens, exec plugins, in-cluster token files, refreshed every 10 s),
// but requests share a keep-alive pool, and watches get their own pool so that long-lived streams never
// starve ordinary requests. Every request is counted in tenantgate_kube_requests_total{verb,resource,code}.
import type { KubeConfig } from '@kubernetes/client-node';
import { Agent, request as undiciRequest, type Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import { Counter, Histogram } from 'prom-client';
import { sleep } from '../lib/async.ts';
import { defineError } from '../lib/errors.ts';
import { registry } from '../lib/metrics.ts';
import { resourcePath, ResourceResolver, type KindRef, type PathParts } from './resources.ts';
import type { KubeList, KubeObject, KubeStatus } from './types.ts';

export const ContentType = {
  Json: 'application/json',
  Apply: 'application/apply-patch+yaml',
  MergePatch: 'application/merge-patch+json',
  JsonPatch: 'application/json-patch+json',
  StrategicMergePatch: 'application/strategic-merge-patch+json',
} as const;
export type ContentType = (typeof ContentType)[keyof typeof ContentType];

const ApiErrorBase = defineError('TG_KUBE_API', '%s %s: %s');
/** The API server answered with an error status; `statusCode`, `reason` and `status` (metav1.Status). */
export class KubeApiError extends ApiErrorBase {
  readonly statusCode: number;
  readonly reason: string;
  readonly status: KubeStatus;
  /** from a Retry-After header (429, 503) */
  readonly retryAfterSeconds: number | undefined;
  constructor(
    method: string,
    path: string,
    statusCode: number,
    status: KubeStatus,
    retryAfterSeconds?: number,
  ) {
    super([method, path, `${statusCode} ${status.reason ?? ''}: ${status.message ?? '(no message)'}`]);
    this.statusCode = statusCode;
    this.reason = status.reason ?? '';
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
/** The request never got an answer (connection refused, TLS, timeout). */
export const KubeRequestError = defineError('TG_KUBE_REQUEST', '%s %s failed: %s');

export const isNotFound = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 404;
export const isConflict = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 409;
export const isAlreadyExists = (err: unknown): boolean =>
  isConflict(err) && (err as KubeApiError).reason === 'AlreadyExists';
export const isGone = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 410;
export const isForbidden = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 403;
export const isInvalid = (err: unknown): boolean => err instanceof KubeApiError && err.statusCode === 422;

const requests = new Counter({
  name: 'tenantgate_kube_requests_total',
  help: 'Requests to the Kubernetes API server by verb, resource and HTTP status code (0: no answer)',
  labelNames: ['verb', 'resource', 'code'] as const,
  registers: [registry],
});
const requestSeconds = new Histogram({
  name: 'tenantgate_kube_request_duration_seconds',
  help: 'Latency of requests to the Kubernetes API server (watches excluded)',
  labelNames: ['verb'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export interface KubeClientOptions {
  kubeConfig: KubeConfig;
  /** sent as User-Agent, e.g. "tenantgate-operator/0.1.0" */
  userAgent?: string;
  /** act as another user (Impersonate-User/-Group headers); the real user needs the `impersonate` verb */
  impersonate?: { user: string; groups?: string[] };
  /** per-request timeout for ordinary requests; default 30 s */
  requestTimeoutMs?: number;
  /** keep-alive connections for ordinary requests; default 16 */
  maxConnections?: number;
}

export interface RequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: ContentType;
  /** metric label; derived from method and content type when absent */
  verb?: string;
  signal?: AbortSignal;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

const HEADER_TTL_MS = 10_000;
const MAX_THROTTLE_RETRIES = 5;

export class KubeClient {
  readonly server: string;
  readonly resources: ResourceResolver;
  readonly #kc: KubeConfig;
  readonly #options: KubeClientOptions;
  #requestAgent: Agent | undefined;
  #watchAgent: Agent | undefined;
  #setup: Promise<void> | undefined;
  #headers: { value: Record<string, string>; expires: number } | undefined;

  constructor(options: KubeClientOptions) {
    const cluster = options.kubeConfig.getCurrentCluster();
    if (!cluster) throw new KubeRequestError(['-', '-', 'the kubeconfig has no current cluster']);
    this.server = cluster.server.replace(/\/+$/, '');
    this.#kc = options.kubeConfig;
    this.#options = options;
    this.resources = new ResourceResolver((path) => this.request({ method: 'GET', path, verb: 'discovery' }));
  }

  get kubeConfig(): KubeConfig {
    return this.#kc;
  }

  /** A JSON request; resolves to the parsed body, throws KubeApiError / KubeRequestError. */
  async request<T = unknown>(options: RequestOptions): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#requestOnce<T>(options);
      } catch (err) {
        // API Priority and Fairness sheds load with 429 + Retry-After; honour it a few times
        if (attempt >= MAX_THROTTLE_RETRIES || !(err instanceof KubeApiError && err.statusCode === 429))
          throw err;
        await sleep(Math.min(err.retryAfterSeconds ?? 1, 10) * 1000, options.signal);
      }
    }
  }

  async #requestOnce<T>(options: RequestOptions): Promise<T> {
    await this.#ensureSetup();
    const url = this.#url(options.path, options.query);
    const verb = options.verb ?? verbOf(options);
    const resource = resourceOf(options.path);
    const started = performance.now();
    let res: Dispatcher.ResponseData;
    try {
      res = await undiciRequest(url, {
        method: options.method,
        headers: await this.#requestHeaders(
          options.body !== undefined ? (options.contentType ?? ContentType.Json) : undefined,
        ),
        body:
          options.body === undefined
            ? undefined
            : typeof options.body === 'string'
              ? options.body
              : JSON.stringify(options.body),
        dispatcher: this.#requestAgent,
        signal: options.signal,
        headersTimeout: this.#options.requestTimeoutMs ?? 30_000,
        bodyTimeout: this.#options.requestTimeoutMs ?? 30_000,
      });
    } catch (err) {
      requests.inc({ verb, resource, code: '0' });
      throw new KubeRequestError([options.method, options.path, (err as Error).message], { cause: err });
    }
    const text = await res.body.text();
    requestSeconds.observe({ verb }, (performance.now() - started) / 1000);
    requests.inc({ verb, resource, code: String(res.statusCode) });
    const parsed = text ? safeJson(text) : undefined;
    if (res.statusCode >= 400) {
      const status: KubeStatus =
        parsed && typeof parsed === 'object' && 'kind' in parsed
          ? (parsed as KubeStatus)
          : { message: text.slice(0, 500) };
      const retryAfter = Number(res.headers['retry-after']);
      throw new KubeApiError(
        options.method,
        options.path,
        res.statusCode,
        status,
        retryAfter > 0 ? retryAfter : undefined,
      );
    }
    return parsed as T;
  }

  /** Opens a streaming GET (a watch); the caller reads and destroys the body. */
  async stream(
    path: string,
    query: RequestOptions['query'],
    options: { signal?: AbortSignal; idleTimeoutMs: number },
  ): Promise<Readable> {
    await this.#ensureSetup();
    const resource = resourceOf(path);
    let res: Dispatcher.ResponseData;
    try {
      res = await undiciRequest(this.#url(path, query), {
        method: 'GET',
        headers: await this.#requestHeaders(undefined),
        dispatcher: this.#watchAgent,
        signal: options.signal,
        headersTimeout: this.#options.requestTimeoutMs ?? 30_000,
        bodyTimeout: options.idleTimeoutMs,
      });
    } catch (err) {
      requests.inc({ verb: 'watch', resource, code: '0' });
      throw new KubeRequestError(['GET', path, (err as Error).message], { cause: err });
    }
    requests.inc({ verb: 'watch', resource, code: String(res.statusCode) });
    if (res.statusCode !== 200) {
      const text = await res.body.text().catch(() => '');
      const parsed = safeJson(text);
      const status: KubeStatus =
        parsed && typeof parsed === 'object' ? (parsed as KubeStatus) : { message: text.slice(0, 500) };
      throw new KubeApiError('GET', path, res.statusCode, status);
    }
    return res.body;
  }

  /** GET one object; undefined when it does not exist. */
  async get<T extends KubeObject = KubeObject>(
    ref: KindRef,
    parts: { name: string; namespace?: string },
    signal?: AbortSignal,
  ): Promise<T | undefined> {
    const info = await this.resources.resolve(ref);
    try {
      return await this.request<T>({ method: 'GET', path: resourcePath(info, parts), signal });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** One page of a list (pass `continue` for the next one). */
  async list<T extends KubeObject = KubeObject>(
    ref: KindRef,
    options: ListOptions = {},
    signal?: AbortSignal,
  ): Promise<KubeList<T>> {
    const info = await this.resources.resolve(ref);
    const { namespace, ...query } = options;
    return this.request<KubeList<T>>({
      method: 'GET',
      path: resourcePath(info, { namespace }),
      query: { ...query },
      verb: 'list',
      signal,
    });
  }

  /** The REST path of a kind's collection or object (resolves unknown kinds through discovery). */
  async pathOf(ref: KindRef, parts: PathParts = {}): Promise<string> {
    return resourcePath(await this.resources.resolve(ref), parts);
  }

  async close(): Promise<void> {
    const agents = [this.#requestAgent, this.#watchAgent];
    this.#requestAgent = this.#watchAgent = undefined;
    this.#setup = undefined;
    await Promise.all(agents.map((a) => a?.destroy().catch(() => undefined)));
  }

  #ensureSetup(): Promise<void> {
    this.#setup ??= this.#createAgents().catch((err: unknown) => {
      this.#setup = undefined;
      throw new KubeRequestError(
        ['-', this.server, `cannot set up TLS from the kubeconfig: ${(err as Error).message}`],
        { cause: err },
      );
    });
    return this.#setup;
  }

  async #createAgents(): Promise<void> {
    const opts: Record<string, unknown> & { headers?: Record<string, string> } = {};
    await this.#kc.applyToHTTPSOptions(opts as never);
    const connect = {
      ca: opts.ca as Buffer | undefined,
      cert: opts.cert as Buffer | undefined,
      key: opts.key as Buffer | undefined,
      servername: opts.servername as string | undefined,
      rejectUnauthorized: opts.rejectUnauthorized as boolean | undefined,
      keepAlive: true,
      keepAliveInitialDelay: 30_000,
    };
    this.#requestAgent = new Agent({
      connect,
      connections: this.#options.maxConnections ?? 16,
      keepAliveTimeout: 30_000,
    });
    this.#watchAgent = new Agent({ connect, keepAliveTimeout: 30_000 });
    this.#headers = { value: { ...(opts.headers ?? {}) }, expires: Date.now() + HEADER_TTL_MS };
  }

  async #requestHeaders(contentType: string | undefined): Promise<Record<string, string>> {
    if (!this.#headers || this.#headers.expires < Date.now()) {
      // tokens from exec plugins or projected service-account files rotate: refresh them now and then
      const opts: { headers?: Record<string, string> } = {};
      await this.#kc.applyToHTTPSOptions(opts as never);
      this.#headers = { value: { ...(opts.headers ?? {}) }, expires: Date.now() + HEADER_TTL_MS };
    }
    const headers: Record<string, string> = { ...this.#headers.value, accept: 'application/json' };
    const user = this.#kc.getCurrentUser();
    if (user?.username && user.password) {
      headers.authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    }
    if (this.#options.userAgent) headers['user-agent'] = this.#options.userAgent;
    if (contentType) headers['content-type'] = contentType;
    const imp = this.#options.impersonate;
    if (imp) {
      headers['impersonate-user'] = imp.user;
      // undici sends an array value as repeated headers, which is how Impersonate-Group lists groups
      if (imp.groups?.length)
        (headers as Record<string, string | string[]>)['impersonate-group'] = imp.groups;
    }
    return headers;
  }

  #url(path: string, query: RequestOptions['query']): string {
    const url = new URL(this.server + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(key, String(value));
    }
    return url.toString();
  }
}

function verbOf(options: RequestOptions): string {
  switch (options.method) {
    case 'GET':
      return 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'DELETE':
      return 'delete';
    case 'PATCH':
      return options.contentType === ContentType.Apply ? 'apply' : 'patch';
  }
}

/** "rolebindings", "tenants/status", ... from a REST path, for metric labels. */
export function resourceOf(path: string): string {
  const segs = path.split('?')[0]!.split('/').filter(Boolean);
  const rest = segs[0] === 'api' ? segs.slice(2) : segs[0] === 'apis' ? segs.slice(3) : [];
  if (rest.length === 0) return 'discovery';
  // /namespaces/NAME/status and /finalize are the Namespace's own subresources, not a namespaced resource
  const inNamespace =
    rest[0] === 'namespaces' &&
    rest.length >= 3 &&
    !(rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'));
  const [resource, , sub] = inNamespace ? rest.slice(2) : rest;
  return sub ? `${resource}/${sub}` : (resource ?? 'unknown');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** True for errors worth retrying later (no answer, throttled, server-side trouble). */
export function isTransient(err: unknown): boolean {
  if (err instanceof KubeApiError) return err.statusCode === 429 || err.statusCode >= 500;
  return !(err instanceof KubeApiError);
}
