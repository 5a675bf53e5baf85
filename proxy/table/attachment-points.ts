// Every policy attachment point of a snapshot — one per route rule per listener it is attached to — read
// from the analysis alone. Policy status and the PoliciesInForce route conditions are computed from these
// points, as data, before (and independently of) the route-table compile.
import type { Analysis } from '../analysis/analyze.ts';
import type { PolicyAttachmentPoint } from '../request-policy.ts';

export function attachmentPoints(
  analysis: Analysis,
  gateways?: ReadonlySet<string>,
): PolicyAttachmentPoint[] {
  const points: PolicyAttachmentPoint[] = [];
  for (const route of analysis.routes) {
    const listeners = new Set<string>();
    for (const parent of route.parents) {
      if (parent.accepted.status !== 'True') continue;
      for (const att of parent.attachments) {
        const l = att.listener;
        if (!l.serving || (gateways && !gateways.has(l.gatewayKey))) continue;
        const key = `${l.gatewayKey}#${l.name}`;
        if (listeners.has(key)) continue;
        listeners.add(key);
        const gw = l.gateway.metadata;
        (route.route.spec?.rules ?? []).forEach((rule, ruleIndex) =>
          points.push({
            gateway: { namespace: gw.namespace ?? 'default', name: gw.name },
            listener: l.name,
            route: { kind: route.kind, namespace: route.namespace, name: route.name },
            ruleIndex,
            ruleName: (rule as { name?: string }).name,
          }),
        );
      }
    }
  }
  return points;
}
