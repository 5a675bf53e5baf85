// The Tenant's count-type limits: a number under spec.limits that caps how many objects of some kinds the
// tenant may have across its namespaces. Each is held exactly by the quota reserver (quota.ts); a new one
// is a new entry here (and its Rego policy for `tenantgate check`), nothing else.
import { KINDS, type ResourceInfo } from '../kube/resources.ts';
import type { AdmissionRequest, Inventory } from '../policies/types.ts';

export interface CountLimit {
  /** the field under Tenant spec.limits, e.g. maxRoutes; also the key of its reservations in the ledger */
  field: string;
  /** the admission policy whose refusals these are (as its Rego reports them offline) */
  policy: string;
  /** the kinds counted, summed across the tenant's namespaces */
  kinds: readonly ResourceInfo[];
  /** what is counted, in a sentence: "routes (HTTPRoutes + GRPCRoutes)" */
  noun: string;
  /** the first half of the fix: "delete a route it no longer needs" */
  fix: string;
}

export const COUNT_LIMITS: readonly CountLimit[] = [
  {
    field: 'maxRoutes',
    policy: 'route-count',
    kinds: [KINDS.HTTPRoute, KINDS.GRPCRoute],
    noun: 'routes (HTTPRoutes + GRPCRoutes)',
    fix: 'delete a route it no longer needs',
  },
];

/** What a CREATE would count against: the limit, the tenant, its maximum, and the object's ledger key. */
export interface CountedCreate {
  limit: CountLimit;
  tenant: string;
  max: number;
  key: string;
  /** the uid the API server gave the object (set before validating admission), to recognise it later */
  uid?: string;
}

/** "HTTPRoute/acme-web/shop": the same for a reservation and for the object an informer shows. */
export function objectKeyOf(kind: string, namespace: string, name: string): string {
  return `${kind}/${namespace}/${name}`;
}

function groupOf(info: ResourceInfo): string {
  const slash = info.apiVersion.indexOf('/');
  return slash < 0 ? '' : info.apiVersion.slice(0, slash);
}

/**
 * The count-type limits a request is subject to: CREATEs of a counted kind in a namespace of a tenant
 * whose spec.limits sets the field. Updates, deletes and objects outside tenants count against nothing.
 */
export function countedCreates(
  request: AdmissionRequest,
  inventory: Inventory,
  limits: readonly CountLimit[] = COUNT_LIMITS,
): CountedCreate[] {
  if (request.operation !== 'CREATE' || !request.namespace) return [];
  const tenant = inventory.namespace_tenants[request.namespace];
  if (!tenant) return [];
  const spec = inventory.tenants[tenant]?.spec as { limits?: Record<string, unknown> } | undefined;
  const meta = (request.object as { metadata?: { name?: string; uid?: string } } | null | undefined)
    ?.metadata;
  const name = request.name || meta?.name;
  if (!name) return [];
  const out: CountedCreate[] = [];
  for (const limit of limits) {
    const max = spec?.limits?.[limit.field];
    if (typeof max !== 'number') continue;
    const counted = limit.kinds.some(
      (k) => k.kind === request.kind.kind && groupOf(k) === request.kind.group,
    );
    if (!counted) continue;
    out.push({
      limit,
      tenant,
      max,
      key: objectKeyOf(request.kind.kind, request.namespace, name),
      ...(meta?.uid ? { uid: meta.uid } : {}),
    });
  }
  return out;
}

/** The refusal, worded as the limit's Rego policy words it (route_count.rego), plus what is in flight. */
export function overLimitMessage(
  c: Pick<CountedCreate, 'limit' | 'tenant' | 'max'>,
  inUse: number,
  inFlight: number,
): string {
  const flight = inFlight > 0 ? `, ${inFlight} of them being created right now,` : '';
  return (
    `tenant '${c.tenant}' already has ${inUse} ${c.limit.noun}${flight} and its limit is ${c.max}` +
    ` — ${c.limit.fix}, or ask the platform team to raise spec.limits.${c.limit.field} of Tenant ${c.tenant}`
  );
}
