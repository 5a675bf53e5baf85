// Builds the data document the policies read (data.inventory) from Kubernetes objects: from informer
// caches in the webhook, from files in `tenantgate check --data`. Indexed for look-ups by key, so that
// a review costs the same with 5 tenants or 500.
import { ADOPT_ANNOTATION, GROUP, TENANT_LABEL, type Tenant } from '../api/index.ts';
import { emptyInventory, type Inventory } from './types.ts';

interface Meta {
  name?: string;
  namespace?: string;
  uid?: string;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; uid: string }[];
}

export interface ObjectLike {
  apiVersion?: string;
  kind?: string;
  metadata?: Meta;
}

interface RouteLike extends ObjectLike {
  spec?: { hostnames?: string[] };
}

interface GatewayLike extends ObjectLike {
  spec?: {
    listeners?: {
      allowedRoutes?: {
        namespaces?: {
          from?: string;
          selector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string }[] };
        };
      };
    }[];
  };
}

export interface InventorySources {
  tenants: Iterable<Tenant>;
  namespaces: Iterable<ObjectLike>;
  /** HTTPRoutes and GRPCRoutes (their `kind` is read) */
  routes: Iterable<RouteLike>;
  gateways: Iterable<GatewayLike>;
}

export function buildInventory(sources: InventorySources): Inventory {
  const inv = emptyInventory();
  // the oldest Tenant keeps a namespace that two Tenants list (the newer one is the one in the wrong)
  const tenants = [...sources.tenants].filter((t) => t.metadata?.name).sort(byAge);
  for (const t of tenants) addTenant(inv, t);
  for (const ns of sources.namespaces) addNamespace(inv, ns);
  for (const route of sources.routes) addRoute(inv, route);
  inv.gateway_selector_labels = selectorLabels(inv, [...sources.gateways]);
  return inv;
}

function byAge(a: ObjectLike, b: ObjectLike): number {
  const ta = a.metadata?.creationTimestamp ?? '';
  const tb = b.metadata?.creationTimestamp ?? '';
  return ta < tb ? -1 : ta > tb ? 1 : (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

function addTenant(inv: Inventory, t: Tenant): void {
  const name = t.metadata.name;
  inv.tenants[name] = {
    uid: t.metadata.uid ?? '',
    spec: { ...t.spec },
  };
  inv.route_counts[name] = 0;
  for (const ns of t.spec?.namespaces ?? []) inv.namespace_tenants[ns.name] ??= name;
  for (const owner of t.spec?.owners ?? []) {
    const key =
      owner.kind === 'Group'
        ? `group:${owner.name}`
        : owner.kind === 'ServiceAccount'
          ? `user:system:serviceaccount:${owner.namespace ?? ''}:${owner.name}`
          : `user:${owner.name}`;
    const list = (inv.owner_index[key] ??= []);
    if (!list.includes(name)) list.push(name);
  }
}

function addNamespace(inv: Inventory, ns: ObjectLike): void {
  const name = ns.metadata?.name;
  if (!name) return;
  const tenantApiVersion = `${GROUP}/`;
  inv.namespaces[name] = {
    labels: { ...ns.metadata?.labels },
    tenant_owner_uids: (ns.metadata?.ownerReferences ?? [])
      .filter((o) => o.kind === 'Tenant' && o.apiVersion.startsWith(tenantApiVersion))
      .map((o) => o.uid),
  };
  const adoptBy = ns.metadata?.annotations?.[ADOPT_ANNOTATION];
  if (adoptBy) inv.namespaces[name].adopt_by = adoptBy;
}

function addRoute(inv: Inventory, route: RouteLike): void {
  const { namespace, name, deletionTimestamp } = route.metadata ?? {};
  if (!namespace || !name || deletionTimestamp) return;
  const tenant = inv.namespace_tenants[namespace];
  if (!tenant) return;
  inv.route_counts[tenant] = (inv.route_counts[tenant] ?? 0) + 1;
  for (const h of route.spec?.hostnames ?? []) {
    (inv.hostname_claims[h.toLowerCase()] ??= []).push({
      tenant,
      kind: route.kind ?? 'HTTPRoute',
      namespace,
      name,
    });
  }
}

/** Label keys that the tenants' Gateways select route namespaces by, plus the tenant label itself. */
function selectorLabels(inv: Inventory, gateways: GatewayLike[]): string[] {
  const used = new Set<string>();
  for (const t of Object.values(inv.tenants)) {
    for (const g of (t.spec.gateways as { name: string; namespace: string }[] | undefined) ?? [])
      used.add(`${g.namespace}/${g.name}`);
  }
  const keys = new Set<string>();
  for (const gw of gateways) {
    if (!used.has(`${gw.metadata?.namespace}/${gw.metadata?.name}`)) continue;
    for (const l of gw.spec?.listeners ?? []) {
      const ns = l.allowedRoutes?.namespaces;
      if (ns?.from !== 'Selector') continue;
      for (const k of Object.keys(ns.selector?.matchLabels ?? {})) keys.add(k);
      for (const e of ns.selector?.matchExpressions ?? []) keys.add(e.key);
    }
  }
  keys.delete(TENANT_LABEL); // always protected; listed once by the policy itself
  return [...keys].sort();
}
