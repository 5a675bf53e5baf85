// Lookup maps over one ProxyInputs snapshot, built once per compile so every later question ("does this
// Service exist", "which slices belong to it", "is there a grant") is a map lookup.
import type { EndpointSlice, KubeObject, ReferenceGrant, Secret, Service } from '../model/gateway-api.ts';
import type { ProxyInputs } from '../model/inputs.ts';

export const keyOf = (namespace: string | undefined, name: string): string =>
  `${namespace ?? 'default'}/${name}`;
export const objectKey = (o: KubeObject): string => keyOf(o.metadata.namespace, o.metadata.name);

export interface InputsIndex {
  inputs: ProxyInputs;
  services: Map<string, Service>;
  /** "ns/service" → slices labelled kubernetes.io/service-name */
  slicesByService: Map<string, EndpointSlice[]>;
  secrets: Map<string, Secret>;
  /** grants by the namespace they live in (the target namespace) */
  grantsByNamespace: Map<string, ReferenceGrant[]>;
  namespaceLabels: Map<string, Record<string, string>>;
  /** memo: "ns/service|portName" → ready endpoints (many backendRefs name the same Service) */
  endpointsMemo: Map<string, unknown>;
}

function groupBy<T>(items: readonly T[], key: (t: T) => string | undefined): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (k === undefined) continue;
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

export function indexInputs(inputs: ProxyInputs): InputsIndex {
  const namespaceLabels = new Map<string, Record<string, string>>();
  for (const ns of inputs.namespaces) {
    namespaceLabels.set(ns.metadata.name, {
      'kubernetes.io/metadata.name': ns.metadata.name,
      ...(ns.metadata.labels ?? {}),
    });
  }
  return {
    inputs,
    services: new Map(inputs.services.map((s) => [objectKey(s), s])),
    slicesByService: groupBy(inputs.endpointSlices, (s) => {
      const svc = s.metadata.labels?.['kubernetes.io/service-name'];
      return svc ? keyOf(s.metadata.namespace, svc) : undefined;
    }),
    secrets: new Map(inputs.secrets.map((s) => [objectKey(s), s])),
    grantsByNamespace: groupBy(inputs.referenceGrants, (g) => g.metadata.namespace ?? 'default'),
    namespaceLabels,
    endpointsMemo: new Map(),
  };
}

/** Labels of a namespace; one the snapshot does not list still carries its well-known name label. */
export function labelsOfNamespace(index: InputsIndex, namespace: string): Record<string, string> {
  return index.namespaceLabels.get(namespace) ?? { 'kubernetes.io/metadata.name': namespace };
}

export interface GrantQuery {
  from: { group: string; kind: string; namespace: string };
  to: { group: string; kind: string; namespace: string; name: string };
}

/** Whether a ReferenceGrant in the target namespace permits this reference (exact group/kind matches). */
export function referenceGranted(index: InputsIndex, q: GrantQuery): boolean {
  for (const grant of index.grantsByNamespace.get(q.to.namespace) ?? []) {
    const fromOk = (grant.spec?.from ?? []).some(
      (f) => (f.group ?? '') === q.from.group && f.kind === q.from.kind && f.namespace === q.from.namespace,
    );
    if (!fromOk) continue;
    const toOk = (grant.spec?.to ?? []).some(
      (t) =>
        (t.group ?? '') === q.to.group &&
        t.kind === q.to.kind &&
        (t.name === undefined || t.name === '' || t.name === q.to.name),
    );
    if (toOk) return true;
  }
  return false;
}
