// The Gateway API status a snapshot implies, as a pure function of the shared analysis: GatewayClass
// Accepted; Gateway Accepted/Programmed, addresses and per-listener status (attachedRoutes, Accepted,
// ResolvedRefs, Programmed, Conflicted); route `parents` with Accepted and ResolvedRefs and the spec's
// reasons. A status writer (cluster mode, leader only) patches these onto the objects.
import type { Condition } from '../../api/common.ts';
import type { Analysis } from '../analysis/analyze.ts';
import type { Verdict } from '../analysis/conditions.ts';
import type { ListenerInfo } from '../analysis/gateways.ts';
import { ourGatewayClasses } from '../analysis/gateways.ts';
import type { ParentReference, RouteGroupKind } from '../model/gateway-api.ts';
import { GATEWAY_GROUP } from '../model/gateway-api.ts';

export interface ListenerStatus {
  name: string;
  supportedKinds: RouteGroupKind[];
  attachedRoutes: number;
  conditions: Condition[];
}

export interface RouteParentStatus {
  parentRef: ParentReference;
  controllerName: string;
  conditions: Condition[];
}

export interface ObjectStatus<S> {
  namespace?: string;
  name: string;
  generation?: number;
  status: S;
}

export interface GatewayApiStatus {
  gatewayClasses: ObjectStatus<{ conditions: Condition[] }>[];
  gateways: ObjectStatus<{
    conditions: Condition[];
    addresses: { type: 'IPAddress'; value: string }[];
    listeners: ListenerStatus[];
  }>[];
  httpRoutes: ObjectStatus<{ parents: RouteParentStatus[] }>[];
  grpcRoutes: ObjectStatus<{ parents: RouteParentStatus[] }>[];
}

export interface StatusOptions {
  controllerName: string;
  /** lastTransitionTime for every condition (a writer keeps the old time when a condition is unchanged) */
  now?: string;
}

function condition(type: string, v: Verdict, generation: number | undefined, now: string): Condition {
  return {
    type,
    status: v.status,
    reason: v.reason,
    message: v.message,
    observedGeneration: generation ?? 0,
    lastTransitionTime: now,
  };
}

function listenerStatus(
  l: ListenerInfo,
  attached: number,
  generation: number | undefined,
  now: string,
): ListenerStatus {
  const programmed: Verdict = l.serving
    ? { status: 'True', reason: 'Programmed', message: '' }
    : { status: 'False', reason: 'Invalid', message: 'the listener is not served' };
  return {
    name: l.name,
    supportedKinds: l.supportedKinds.map((k) => ({ group: k.group ?? GATEWAY_GROUP, kind: k.kind })),
    attachedRoutes: attached,
    conditions: [
      condition('Accepted', l.accepted, generation, now),
      condition('ResolvedRefs', l.resolvedRefs, generation, now),
      condition('Programmed', programmed, generation, now),
      condition('Conflicted', l.conflicted, generation, now),
    ],
  };
}

export function computeStatus(analysis: Analysis, options: StatusOptions): GatewayApiStatus {
  const now = options.now ?? new Date().toISOString();
  const classes = ourGatewayClasses(analysis.index, options.controllerName);
  const gatewayClasses = analysis.index.inputs.gatewayClasses
    .filter((c) => classes.has(c.metadata.name))
    .map((c) => ({
      name: c.metadata.name,
      generation: c.metadata.generation,
      status: {
        conditions: [
          condition(
            'Accepted',
            { status: 'True', reason: 'Accepted', message: '' },
            c.metadata.generation,
            now,
          ),
        ],
      },
    }));

  const attached = new Map<ListenerInfo, number>();
  for (const route of analysis.routes) {
    const seen = new Set<ListenerInfo>();
    for (const p of route.parents) {
      if (p.accepted.status !== 'True') continue;
      for (const a of p.attachments) seen.add(a.listener);
    }
    for (const l of seen) attached.set(l, (attached.get(l) ?? 0) + 1);
  }

  const gateways = analysis.gateways.map((g) => {
    const gen = g.gateway.metadata.generation;
    const anyServing = g.listeners.some((l) => l.serving);
    const programmed: Verdict =
      g.accepted.status !== 'True'
        ? { status: 'False', reason: 'Invalid', message: g.accepted.message }
        : anyServing
          ? { status: 'True', reason: 'Programmed', message: '' }
          : { status: 'False', reason: 'Invalid', message: 'no listener can be served' };
    return {
      namespace: g.gateway.metadata.namespace ?? 'default',
      name: g.gateway.metadata.name,
      generation: gen,
      status: {
        conditions: [
          condition('Accepted', g.accepted, gen, now),
          condition('Programmed', programmed, gen, now),
        ],
        addresses: g.addresses.map((value) => ({ type: 'IPAddress' as const, value })),
        listeners: g.listeners.map((l) => listenerStatus(l, attached.get(l) ?? 0, gen, now)),
      },
    };
  });

  const routeStatus = (kind: 'HTTPRoute' | 'GRPCRoute') =>
    analysis.routes
      .filter((r) => r.kind === kind && r.parents.length > 0)
      .map((r) => {
        const gen = r.route.metadata.generation;
        return {
          namespace: r.namespace,
          name: r.name,
          generation: gen,
          status: {
            parents: r.parents.map((p) => ({
              parentRef: {
                group: GATEWAY_GROUP,
                kind: 'Gateway',
                ...p.ref,
                namespace: p.ref.namespace ?? r.namespace,
              },
              controllerName: options.controllerName,
              conditions: [
                condition('Accepted', p.accepted, gen, now),
                condition('ResolvedRefs', r.resolvedRefs, gen, now),
              ],
            })),
          },
        };
      });

  return {
    gatewayClasses,
    gateways,
    httpRoutes: routeStatus('HTTPRoute'),
    grpcRoutes: routeStatus('GRPCRoute'),
  };
}
