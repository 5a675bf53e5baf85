// InformerCounts over stand-in caches (only list/get/addHandlers are read); with real informers against a
// real API server: test/integration/webhook-quota.test.ts.
import { describe, expect, it } from 'vitest';
import type { InformerHandlers } from '../kube/informer.ts';
import type { InformerFactory } from '../kube/informer-factory.ts';
import type { KindRef } from '../kube/resources.ts';
import type { KubeObject } from '../kube/types.ts';
import { COUNT_LIMITS } from './quota-limits.ts';
import { InformerCounts, tenantNamespaces } from './quota-view.ts';
import { inventory } from '../test/helpers/admission.ts';

class Cache {
  readonly objects = new Map<string, KubeObject>();
  readonly handlers: InformerHandlers<KubeObject>[] = [];
  addHandlers(h: InformerHandlers<KubeObject>) {
    this.handlers.push(h);
    return () => this.handlers.splice(this.handlers.indexOf(h), 1);
  }
  list(namespace?: string) {
    return [...this.objects.values()].filter((o) => o.metadata?.namespace === namespace);
  }
  get(name: string, namespace?: string) {
    return this.objects.get(`${namespace}/${name}`);
  }
  add(kind: string, namespace: string, name: string, uid: string, deleting = false) {
    const obj = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind,
      metadata: { name, namespace, uid, ...(deleting ? { deletionTimestamp: '2026-12-04T12:00:00Z' } : {}) },
    };
    this.objects.set(`${namespace}/${name}`, obj);
  }
  remove(namespace: string, name: string) {
    const obj = this.objects.get(`${namespace}/${name}`)!;
    this.objects.delete(`${namespace}/${name}`);
    for (const h of this.handlers) h.onDelete?.(obj);
  }
}

function setup() {
  const caches = new Map<string, Cache>([
    ['HTTPRoute', new Cache()],
    ['GRPCRoute', new Cache()],
  ]);
  const informers = { informer: (kind: KindRef) => caches.get(kind.kind)! } as unknown as InformerFactory;
  let now = 1_000_000;
  const counts = new InformerCounts({ informers, limits: COUNT_LIMITS, rememberMs: 90_000, now: () => now });
  return {
    http: caches.get('HTTPRoute')!,
    grpc: caches.get('GRPCRoute')!,
    counts,
    tick: (ms: number) => (now += ms),
  };
}

const maxRoutes = COUNT_LIMITS[0]!;

describe('InformerCounts', () => {
  it("shows the tenant's HTTPRoutes and GRPCRoutes in its namespaces, not those being deleted or elsewhere", () => {
    const { http, grpc, counts } = setup();
    http.add('HTTPRoute', 'acme-web', 'shop', 'u1');
    grpc.add('GRPCRoute', 'acme-api', 'rpc', 'u2');
    http.add('HTTPRoute', 'acme-web', 'going', 'u3', true);
    http.add('HTTPRoute', 'globex-web', 'theirs', 'u4');
    const view = counts.view(maxRoutes, 'acme', inventory());
    expect([...view.visible].sort()).toEqual(['GRPCRoute/acme-api/rpc', 'HTTPRoute/acme-web/shop']);
  });

  it('has seen a reserved object that is in its cache with the same uid, or was deleted since', () => {
    const { http, counts, tick } = setup();
    http.add('HTTPRoute', 'acme-web', 'shop', 'u1');
    expect(counts.seen('HTTPRoute/acme-web/shop', { uid: 'u1', at: 0 })).toBe(true);
    // the same name held by another object (the reserved one is not stored yet)
    expect(counts.seen('HTTPRoute/acme-web/shop', { uid: 'u9', at: 0 })).toBe(false);
    expect(counts.seen('HTTPRoute/acme-web/other', { uid: 'u2', at: 0 })).toBe(false);
    http.remove('acme-web', 'shop');
    expect(counts.seen('HTTPRoute/acme-web/shop', { uid: 'u1', at: 0 })).toBe(true);
    // deleted uids are remembered as long as a reservation lives, then forgotten
    tick(90_001);
    counts.view(maxRoutes, 'acme', inventory());
    expect(counts.seen('HTTPRoute/acme-web/shop', { uid: 'u1', at: 0 })).toBe(false);
  });

  it('lists only the namespaces the tenant lists and holds', () => {
    const inv = inventory();
    expect(tenantNamespaces('acme', inv).sort()).toEqual(
      Object.entries(inv.namespace_tenants)
        .filter(([, t]) => t === 'acme')
        .map(([ns]) => ns)
        .sort(),
    );
    expect(tenantNamespaces('nobody', inv)).toEqual([]);
  });
});
