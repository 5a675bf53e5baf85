// Writes the Gateway API status computeStatus() derived onto the objects (cluster mode; only one writer —
// the leader — should run). Per object it applies the status subresource only when it differs from what
// is stored; a condition whose status and reason did not change keeps its lastTransitionTime; route
// parents written by other controllers are kept.
import type { Condition } from '../../api/common.ts';
import { componentLogger } from '../../lib/logger.ts';
import { applyStatus } from '../../kube/apply.ts';
import { isNotFound, type KubeClient } from '../../kube/client.ts';
import type { KubeObject } from '../model/gateway-api.ts';
import type { ProxyInputs } from '../model/inputs.ts';
import type { GatewayApiStatus, ObjectStatus, RouteParentStatus } from './compute-status.ts';
import type { PolicyAncestorStatus } from '../policy-attachment/status.ts';
import type { PolicyObjectStatus } from './policy-status.ts';

const log = componentLogger('proxy.status');
const GW_API = 'gateway.networking.k8s.io/v1';
const POLICY_API = 'tenantgate.io/v1alpha1';
export const STATUS_FIELD_MANAGER = 'tenantgate-gateway-status';

type StoredStatus = {
  conditions?: Condition[];
  ancestors?: PolicyAncestorStatus[];
  parents?: RouteParentStatus[];
  listeners?: { name: string; conditions?: Condition[] }[];
} & Record<string, unknown>;

/** Keeps lastTransitionTime from the stored condition of the same type when status and reason match. */
function keepTransitions(next: Condition[], prev: Condition[] | undefined): Condition[] {
  return next.map((c) => {
    const old = prev?.find((p) => p.type === c.type);
    return old && old.status === c.status && old.reason === c.reason
      ? { ...c, lastTransitionTime: old.lastTransitionTime }
      : c;
  });
}

const sameParent = (a: RouteParentStatus['parentRef'], b: RouteParentStatus['parentRef']): boolean =>
  a.name === b.name &&
  (a.namespace ?? '') === (b.namespace ?? '') &&
  (a.sectionName ?? '') === (b.sectionName ?? '') &&
  (a.port ?? 0) === (b.port ?? 0) &&
  (a.kind ?? 'Gateway') === (b.kind ?? 'Gateway');

type LooseRef = { kind?: string; namespace?: string; name: string; sectionName?: string };
const sameAncestor = (a: LooseRef, b: LooseRef): boolean =>
  a.name === b.name &&
  (a.namespace ?? '') === (b.namespace ?? '') &&
  (a.kind ?? 'Gateway') === (b.kind ?? 'Gateway') &&
  (a.sectionName ?? '') === (b.sectionName ?? '');

/** Canonical JSON (sorted keys) so that field order never makes two equal statuses differ. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) =>
    value && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)))
      : value,
  );
}

export interface StatusWriterOptions {
  client: KubeClient;
  controllerName: string;
  fieldManager?: string;
}

export interface WriteResult {
  written: number;
  unchanged: number;
  errors: string[];
}

export class GatewayStatusWriter {
  readonly #o: StatusWriterOptions;

  constructor(options: StatusWriterOptions) {
    this.#o = options;
  }

  /**
   * Writes what changed. `live` is the snapshot the status was computed from (the stored objects);
   * `policies` the RateLimitPolicy/AccessPolicy ancestors (their route conditions are already in `status`).
   */
  async write(
    status: GatewayApiStatus,
    live: ProxyInputs,
    policies: readonly PolicyObjectStatus[] = [],
  ): Promise<WriteResult> {
    const result: WriteResult = { written: 0, unchanged: 0, errors: [] };
    const find = (list: readonly KubeObject[], ns: string | undefined, name: string) =>
      list.find(
        (o) => o.metadata.name === name && (ns === undefined || (o.metadata.namespace ?? 'default') === ns),
      ) as (KubeObject & { status?: StoredStatus }) | undefined;
    const jobs: {
      apiVersion?: string;
      kind: string;
      obj: ObjectStatus<unknown>;
      stored: StoredStatus | undefined;
      next: unknown;
    }[] = [];

    for (const c of status.gatewayClasses) {
      const stored = find(live.gatewayClasses, undefined, c.name)?.status;
      jobs.push({
        kind: 'GatewayClass',
        obj: c,
        stored,
        next: { ...stored, conditions: keepTransitions(c.status.conditions, stored?.conditions) },
      });
    }
    for (const g of status.gateways) {
      const stored = find(live.gateways, g.namespace, g.name)?.status;
      const listeners = g.status.listeners.map((l) => ({
        ...l,
        conditions: keepTransitions(
          l.conditions,
          stored?.listeners?.find((x) => x.name === l.name)?.conditions,
        ),
      }));
      jobs.push({
        kind: 'Gateway',
        obj: g,
        stored,
        next: {
          ...g.status,
          conditions: keepTransitions(g.status.conditions, stored?.conditions),
          listeners,
        },
      });
    }
    for (const [kind, routes, list] of [
      ['HTTPRoute', status.httpRoutes, live.httpRoutes],
      ['GRPCRoute', status.grpcRoutes, live.grpcRoutes],
    ] as const) {
      for (const r of routes) {
        const stored = find(list, r.namespace, r.name)?.status;
        const others = (stored?.parents ?? []).filter((p) => p.controllerName !== this.#o.controllerName);
        const ours = r.status.parents.map((p) => ({
          ...p,
          conditions: keepTransitions(
            p.conditions,
            stored?.parents?.find(
              (s) => s.controllerName === this.#o.controllerName && sameParent(s.parentRef, p.parentRef),
            )?.conditions,
          ),
        }));
        jobs.push({ kind, obj: r, stored, next: { parents: [...others, ...ours] } });
      }
    }
    for (const p of policies) {
      const list = p.kind === 'RateLimitPolicy' ? live.rateLimitPolicies : live.accessPolicies;
      const stored = find(list as readonly KubeObject[], p.namespace, p.name)?.status;
      const mine = this.#o.controllerName;
      const others = (stored?.ancestors ?? []).filter((a) => a.controllerName !== mine);
      const ours = p.ancestors.map((a) => ({
        ...a,
        conditions: keepTransitions(
          a.conditions,
          stored?.ancestors?.find(
            (s) => s.controllerName === mine && sameAncestor(s.ancestorRef, a.ancestorRef),
          )?.conditions,
        ),
      }));
      // the CRD allows 16 ancestors; other controllers' entries keep their place
      const ancestors = [...others, ...ours].slice(0, 16);
      jobs.push({
        apiVersion: POLICY_API,
        kind: p.kind,
        obj: { namespace: p.namespace, name: p.name, status: ancestors },
        stored,
        next: { ancestors },
      });
    }

    for (const job of jobs) {
      const storedComparable =
        job.stored === undefined
          ? undefined
          : job.kind === 'HTTPRoute' || job.kind === 'GRPCRoute'
            ? { parents: job.stored.parents ?? [] }
            : job.apiVersion === POLICY_API
              ? { ancestors: job.stored.ancestors ?? [] }
              : job.stored;
      if (storedComparable !== undefined && canonical(storedComparable) === canonical(job.next)) {
        result.unchanged++;
        continue;
      }
      try {
        await applyStatus(
          this.#o.client,
          {
            apiVersion: job.apiVersion ?? GW_API,
            kind: job.kind,
            metadata: { name: job.obj.name, namespace: job.obj.namespace },
          },
          job.next,
          {
            fieldManager: this.#o.fieldManager ?? STATUS_FIELD_MANAGER,
          },
        );
        result.written++;
      } catch (err) {
        if (isNotFound(err)) continue; // deleted since the snapshot: nothing to report on
        const what = `${job.kind} ${job.obj.namespace ? `${job.obj.namespace}/` : ''}${job.obj.name}`;
        result.errors.push(`${what}: ${(err as Error).message}`);
        log.warn('status write failed; retried on the next snapshot', { object: what, err });
      }
    }
    return result;
  }
}
