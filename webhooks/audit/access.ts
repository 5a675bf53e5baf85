// Who may read which audit records, decided by the cluster itself:
// - authentication: a bearer token checked with a TokenReview, or a client certificate signed by the
//   cluster's client CA (kube-system/extension-apiserver-authentication, as delegated authentication in
//   aggregated API servers reads it) — so kubeconfigs with either kind of credential work;
// - impersonation (`--as`): Impersonate-User/-Group headers, honoured when a SubjectAccessReview says the
//   caller may `impersonate` that user and those groups, as the API server does;
// - authorisation: SubjectAccessReviews on the virtual resource admissiondenials.audit.tenantgate.io.
//   `list` cluster-wide (ClusterRole tenantgate:auditor by ClusterRoleBinding) reads every record; `list`
//   in a namespace (the ClusterRole by RoleBinding there) reads that namespace's records only. Records
//   about cluster-scoped objects (Tenants, Namespaces) have no namespace: only cluster-wide readers see them.
// Answers are cached for 10 s, so a page that polls does not review the same token on every request.
import type { IncomingHttpHeaders } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createHash } from 'node:crypto';
import type { KubeClient } from '../../kube/client.ts';

export const AUDIT_GROUP = 'audit.tenantgate.io';
export const AUDIT_RESOURCE = 'admissiondenials';
export const AUDITOR_CLUSTER_ROLE = 'tenantgate:auditor';
/** the ClusterRole's rules (config/audit/rbac.yaml ships the same; a unit test keeps them equal) */
export const AUDITOR_RULES = [
  { apiGroups: [AUDIT_GROUP], resources: [AUDIT_RESOURCE], verbs: ['get', 'list', 'watch'] },
];

export interface Caller {
  user: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

export type Scope = { all: true } | { all: false; namespaces: string[] };

export class AccessError extends Error {
  readonly status: 401 | 403;
  constructor(status: 401 | 403, message: string) {
    super(message);
    this.status = status;
  }
}

interface ResourceAttributes {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  name?: string;
}

const TTL_MS = 10_000;

export class AuditAccess {
  readonly #client: KubeClient;
  readonly #cache = new Map<string, { value: unknown; expires: number }>();

  constructor(client: KubeClient) {
    this.#client = client;
  }

  /** The caller, impersonation applied; AccessError 401/403 otherwise. */
  async caller(headers: IncomingHttpHeaders, socket: TLSSocket | undefined): Promise<Caller> {
    const real = await this.#authenticate(headers, socket);
    if (!real)
      throw new AccessError(401, 'no valid credentials: send a bearer token or a client certificate');
    const asUser = single(headers['impersonate-user']);
    const asGroups = list(headers['impersonate-group']);
    if (!asUser) {
      if (asGroups.length) throw new AccessError(403, 'Impersonate-Group needs Impersonate-User');
      return real;
    }
    const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(asUser);
    const checks: ResourceAttributes[] = [
      sa
        ? { verb: 'impersonate', group: '', resource: 'serviceaccounts', namespace: sa[1], name: sa[2] }
        : { verb: 'impersonate', group: '', resource: 'users', name: asUser },
      ...asGroups.map((g) => ({ verb: 'impersonate', group: '', resource: 'groups', name: g })),
    ];
    for (const attrs of checks) {
      if (!(await this.allowed(real, attrs)))
        throw new AccessError(
          403,
          `${real.user} may not impersonate ${attrs.resource === 'groups' ? 'group' : 'user'} '${attrs.name}' (needs the impersonate verb on ${attrs.resource})`,
        );
    }
    const groups = [...asGroups];
    if (sa) groups.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
    if (asUser !== 'system:anonymous' && !groups.includes('system:authenticated'))
      groups.push('system:authenticated');
    return { user: asUser, groups };
  }

  /**
   * What the caller may read: everything, or some namespaces among `candidates` (the namespaces the query
   * could touch). AccessError 403 when nothing.
   */
  async scope(caller: Caller, candidates: string[]): Promise<Scope> {
    const verb = { verb: 'list', group: AUDIT_GROUP, resource: AUDIT_RESOURCE };
    if (await this.allowed(caller, verb)) return { all: true };
    const allowed = (
      await Promise.all(
        [...new Set(candidates)].map(async (ns) =>
          (await this.allowed(caller, { ...verb, namespace: ns })) ? ns : undefined,
        ),
      )
    ).filter((ns): ns is string => ns !== undefined);
    if (allowed.length === 0)
      throw new AccessError(
        403,
        `${caller.user} may not list ${AUDIT_RESOURCE}.${AUDIT_GROUP} ${
          candidates.length === 1
            ? `in namespace '${candidates[0]}'`
            : 'cluster-wide or in any tenant namespace'
        }; bind the ClusterRole ${AUDITOR_CLUSTER_ROLE} (by RoleBinding for one namespace)`,
      );
    return { all: false, namespaces: allowed.sort() };
  }

  /** One SubjectAccessReview for the caller (cached). */
  async allowed(caller: Caller, attrs: ResourceAttributes): Promise<boolean> {
    return this.#cached(`sar:${JSON.stringify([caller, attrs])}`, async () => {
      const res = await this.#client.request<{ status?: { allowed?: boolean } }>({
        method: 'POST',
        path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: caller.user,
            groups: caller.groups,
            ...(caller.uid ? { uid: caller.uid } : {}),
            ...(caller.extra ? { extra: caller.extra } : {}),
            resourceAttributes: attrs,
          },
        },
      });
      return res.status?.allowed === true;
    });
  }

  async #authenticate(
    headers: IncomingHttpHeaders,
    socket: TLSSocket | undefined,
  ): Promise<Caller | undefined> {
    const auth = single(headers.authorization);
    const token = auth && /^bearer\s+(\S+)$/i.exec(auth)?.[1];
    if (token) {
      const key = `token:${createHash('sha256').update(token).digest('hex')}`;
      return this.#cached(key, async () => {
        const res = await this.#client.request<{
          status?: {
            authenticated?: boolean;
            user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
          };
        }>({
          method: 'POST',
          path: '/apis/authentication.k8s.io/v1/tokenreviews',
          body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } },
        });
        const u = res.status?.user;
        if (!res.status?.authenticated || !u?.username) return undefined;
        return {
          user: u.username,
          groups: u.groups ?? [],
          ...(u.uid ? { uid: u.uid } : {}),
          ...(u.extra ? { extra: u.extra } : {}),
        };
      });
    }
    // a client certificate the TLS layer verified against the cluster's client CA: CN user, O groups
    if (socket?.authorized) {
      const subject = socket.getPeerCertificate()?.subject;
      const cn = subject?.CN;
      if (typeof cn === 'string' && cn) {
        const o = subject.O as string | string[] | undefined;
        const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
        return { user: cn, groups: [...groups, 'system:authenticated'] };
      }
    }
    return undefined;
  }

  async #cached<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.#cache.get(key);
    if (hit && hit.expires > now) return hit.value as T;
    const value = await fn();
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(key, { value, expires: now + TTL_MS });
    return value;
  }
}

function single(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function list(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean);
}
