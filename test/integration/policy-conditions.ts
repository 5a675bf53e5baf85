// Reading the status the proxy writes on policies and routes in cluster mode: the condition of one type in
// our controller's entry (a policy's status.ancestors, a route's status.parents), and waiting for a
// condition to reach a status and reason.
import type { KubeClient } from '../../kube/client.ts';
import { KINDS, type KindRef } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import { eventually, get } from './tenant-fixtures.ts';

export interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
}

export type PolicyWithStatus = KubeObject & {
  status?: {
    ancestors?: {
      ancestorRef: { group?: string; kind?: string; namespace?: string; name: string };
      controllerName: string;
      conditions: Cond[];
    }[];
  };
};

type RouteWithStatus = KubeObject & {
  status?: { parents?: { parentRef: { name: string }; controllerName: string; conditions: Cond[] }[] };
};

/** The condition of `type` in `controller`'s ancestor entry for Gateway `ancestor` of a policy, once written. */
export async function policyAncestorCondition(
  client: KubeClient,
  o: { kind: KindRef; namespace: string; name: string; controller: string; type: string; ancestor: string },
): Promise<Cond | undefined> {
  const p = await get<PolicyWithStatus>(client, o.kind, o.name, o.namespace);
  return p?.status?.ancestors
    ?.find((a) => a.controllerName === o.controller && a.ancestorRef.name === o.ancestor)
    ?.conditions.find((c) => c.type === o.type);
}

/** The condition of `type` in `controller`'s parent entry of HTTPRoute `name`, once written. */
export async function routeParentCondition(
  client: KubeClient,
  o: { namespace: string; name: string; controller: string; type: string },
): Promise<Cond | undefined> {
  const r = await get<RouteWithStatus>(client, KINDS.HTTPRoute, o.name, o.namespace);
  return r?.status?.parents
    ?.find((p) => p.controllerName === o.controller)
    ?.conditions.find((c) => c.type === o.type);
}

/** Waits for a condition with this status and reason; returns it. */
export function waitForCondition(
  read: () => Promise<Cond | undefined>,
  status: string,
  reason: string,
  what: string,
): Promise<Cond> {
  return eventually(
    async () => {
      const c = await read();
      return c?.status === status && c.reason === reason ? c : undefined;
    },
    { what: `${what} ${status}/${reason}` },
  );
}
