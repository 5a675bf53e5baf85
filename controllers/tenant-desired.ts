// What a Tenant should have made, computed from its spec alone (plus the shared Gateways it names): pure
// functions, no API calls, so that the reconciler can compare them with the caches and write nothing
// when nothing differs.
//
// Namespace labels, in increasing precedence:
//   1. the tenant's own `spec.namespaces[].labels` (keys under tenantgate.io/ are ignored: those are ours);
//   2. what the shared Gateways' listeners select on: for each `spec.gateways` entry (only the listeners
//      named in sectionNames, when given) whose `allowedRoutes.namespaces.from` is Selector, the
//      selector's matchLabels, and for matchExpressions `In` the first value and `Exists` the value "true";
//   3. `tenantgate.io/tenant: <tenant>`. A shared Gateway can simply select on this key with
//      `matchExpressions: [{key: tenantgate.io/tenant, operator: Exists}]` to admit every tenant (which
//      tenant may attach to which Gateway is then the webhook's job).
import type { Tenant } from '../api/tenant.ts';
import { KINDS } from '../kube/resources.ts';
import {
  ADDITIONAL_ROLE_BINDING_PREFIX,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  OWNER_CLUSTER_ROLE,
  OWNER_ROLE_BINDING,
  REFERENCE_GRANT_NAME,
  TENANT_LABEL,
} from './labels.ts';
import { tenantOwnerReference } from './ownership.ts';
import type { Gateway, Namespace, RbacSubject, ReferenceGrant, RoleBinding } from './types.ts';

type Named<T> = T & { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } };
export type NamespacedChild = Named<RoleBinding> | Named<ReferenceGrant>;
export type DesiredNamespace = Named<Namespace>;

export interface DesiredTenant {
  /** by namespace name, in spec order */
  namespaces: Map<string, DesiredNamespace>;
  /** shared Gateways that were not found or whose selectors cannot be satisfied by labels */
  gatewayProblems: string[];
}

export type GatewayLookup = (namespace: string, name: string) => Gateway | undefined;

/** ReferenceGrant `from` holds at most 16 entries: 2 route kinds x 8 namespaces per grant. */
const NAMESPACES_PER_GRANT = 8;
const RBAC_GROUP = 'rbac.authorization.k8s.io';
const RESERVED_PREFIX = 'tenantgate.io/';

export function desiredTenant(tenant: Tenant, lookupGateway: GatewayLookup): DesiredTenant {
  const { labels: gatewayLabels, problems } = gatewaySelectorLabels(tenant, lookupGateway);
  const namespaces = new Map<string, Named<Namespace>>();
  for (const entry of tenant.spec.namespaces) {
    namespaces.set(entry.name, desiredNamespace(tenant, entry.labels ?? {}, gatewayLabels, entry.name));
  }
  return { namespaces, gatewayProblems: problems };
}

/**
 * RoleBindings and ReferenceGrants for each namespace the Tenant is proven to own. Only owned namespaces
 * appear as ReferenceGrant sources: a namespace the Tenant lists but does not own (another tenant's,
 * a pre-existing one) must never be able to reach the Tenant's Services.
 */
export function desiredChildren(tenant: Tenant, ownedNamespaces: string[]): Map<string, NamespacedChild[]> {
  const children = new Map<string, NamespacedChild[]>();
  for (const ns of ownedNamespaces) {
    children.set(ns, [
      ...desiredRoleBindings(tenant, ns),
      ...desiredReferenceGrants(tenant, ns, ownedNamespaces),
    ]);
  }
  return children;
}

function childLabels(tenant: Tenant): Record<string, string> {
  return { [TENANT_LABEL]: tenant.metadata.name, [MANAGED_BY_LABEL]: MANAGED_BY };
}

export function desiredNamespace(
  tenant: Tenant,
  ownLabels: Record<string, string>,
  gatewayLabels: Record<string, string>,
  name: string,
): Named<Namespace> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(ownLabels)) if (!k.startsWith(RESERVED_PREFIX)) labels[k] = v;
  Object.assign(labels, gatewayLabels, { [TENANT_LABEL]: tenant.metadata.name });
  return {
    apiVersion: KINDS.Namespace.apiVersion,
    kind: KINDS.Namespace.kind,
    metadata: { name, labels, ownerReferences: [tenantOwnerReference(tenant)] },
  };
}

export function rbacSubject(s: {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
}): RbacSubject {
  // spelled out as the API server defaults them, so that comparing with the stored object is exact
  return s.kind === 'ServiceAccount'
    ? { kind: s.kind, name: s.name, namespace: s.namespace }
    : { kind: s.kind, name: s.name, apiGroup: RBAC_GROUP };
}

export function desiredRoleBindings(tenant: Tenant, namespace: string): Named<RoleBinding>[] {
  const out: Named<RoleBinding>[] = [];
  const binding = (name: string, clusterRole: string, subjects: RbacSubject[]): Named<RoleBinding> => ({
    apiVersion: KINDS.RoleBinding.apiVersion,
    kind: KINDS.RoleBinding.kind,
    metadata: {
      name,
      namespace,
      labels: childLabels(tenant),
      ownerReferences: [tenantOwnerReference(tenant)],
    },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: clusterRole },
    subjects,
  });
  const owners = tenant.spec.owners ?? [];
  if (owners.length)
    out.push(binding(OWNER_ROLE_BINDING, OWNER_CLUSTER_ROLE, dedupe(owners.map(rbacSubject))));
  // one RoleBinding per ClusterRole: entries naming the same ClusterRole share it
  const byRole = new Map<string, RbacSubject[]>();
  for (const extra of tenant.spec.additionalRoleBindings ?? []) {
    byRole.set(extra.clusterRoleName, [
      ...(byRole.get(extra.clusterRoleName) ?? []),
      ...extra.subjects.map(rbacSubject),
    ]);
  }
  for (const [role, subjects] of byRole)
    out.push(binding(`${ADDITIONAL_ROLE_BINDING_PREFIX}${role}`, role, dedupe(subjects)));
  return out;
}

/**
 * In `namespace` (where the Services are), grants letting HTTPRoutes and GRPCRoutes in each OTHER
 * namespace of the same tenant reference its Services. Only the tenant's own namespaces are ever listed.
 */
export function desiredReferenceGrants(
  tenant: Tenant,
  namespace: string,
  tenantNamespaces: string[],
): Named<ReferenceGrant>[] {
  const sources = [...new Set(tenantNamespaces)].filter((n) => n !== namespace).sort();
  const out: Named<ReferenceGrant>[] = [];
  for (let i = 0; i < sources.length; i += NAMESPACES_PER_GRANT) {
    const chunk = sources.slice(i, i + NAMESPACES_PER_GRANT);
    const index = i / NAMESPACES_PER_GRANT;
    out.push({
      apiVersion: KINDS.ReferenceGrant.apiVersion,
      kind: KINDS.ReferenceGrant.kind,
      metadata: {
        name: index === 0 ? REFERENCE_GRANT_NAME : `${REFERENCE_GRANT_NAME}-${index + 1}`,
        namespace,
        labels: childLabels(tenant),
        ownerReferences: [tenantOwnerReference(tenant)],
      },
      spec: {
        from: chunk.flatMap((from) => [
          { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: from },
          { group: 'gateway.networking.k8s.io', kind: 'GRPCRoute', namespace: from },
        ]),
        to: [{ group: '', kind: 'Service' }],
      },
    });
  }
  return out;
}

/** The labels the tenant's shared Gateways select namespaces by (see the header), and what is amiss. */
export function gatewaySelectorLabels(
  tenant: Tenant,
  lookup: GatewayLookup,
): { labels: Record<string, string>; problems: string[] } {
  const labels: Record<string, string> = {};
  const problems: string[] = [];
  for (const ref of tenant.spec.gateways ?? []) {
    const id = `${ref.namespace}/${ref.name}`;
    const gateway = lookup(ref.namespace, ref.name);
    if (!gateway) {
      problems.push(`Gateway ${id} not found`);
      continue;
    }
    const wanted = ref.sectionNames ?? [];
    const listeners = (gateway.spec?.listeners ?? []).filter(
      (l) => wanted.length === 0 || wanted.includes(l.name),
    );
    for (const missing of wanted.filter((w) => !listeners.some((l) => l.name === w))) {
      problems.push(`Gateway ${id} has no listener ${missing}`);
    }
    for (const listener of listeners) {
      const ns = listener.allowedRoutes?.namespaces;
      if (ns?.from !== 'Selector' || !ns.selector) continue;
      for (const [k, v] of Object.entries(ns.selector.matchLabels ?? {}))
        addLabel(labels, problems, tenant, id, k, v);
      for (const expr of ns.selector.matchExpressions ?? []) {
        if (expr.operator === 'In' && expr.values?.[0] !== undefined)
          addLabel(labels, problems, tenant, id, expr.key, expr.values[0]);
        else if (expr.operator === 'Exists')
          addLabel(labels, problems, tenant, id, expr.key, labels[expr.key] ?? 'true');
      }
    }
  }
  return { labels, problems };
}

function addLabel(
  labels: Record<string, string>,
  problems: string[],
  tenant: Tenant,
  gateway: string,
  key: string,
  value: string,
) {
  if (key === TENANT_LABEL) {
    // the tenant label is ours; a selector on it either admits this tenant or no label can make it
    if (value !== 'true' && value !== tenant.metadata.name)
      problems.push(`Gateway ${gateway} selects ${key}=${value}, which this tenant cannot carry`);
    return;
  }
  if (labels[key] !== undefined && labels[key] !== value) {
    problems.push(
      `Gateway ${gateway} selects ${key}=${value}, but another Gateway wants ${key}=${labels[key]}`,
    );
    return;
  }
  labels[key] = value;
}

function dedupe(subjects: RbacSubject[]): RbacSubject[] {
  const seen = new Set<string>();
  return subjects.filter((s) => {
    const key = `${s.kind}/${s.namespace ?? ''}/${s.name}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
