// Which Gateways are ours, where each listener is served (address and port), and whether each listener is
// usable: supported protocol, route kinds, certificates (with ReferenceGrants across namespaces) and
// conflicts with other listeners of the same Gateway or with other Gateways on the same address and port.
import { fail, ok, type Verdict } from './conditions.ts';
import { referenceGranted, type InputsIndex } from './index-inputs.ts';
import { GATEWAY_GROUP, type Gateway, type Listener, type RouteGroupKind } from '../model/gateway-api.ts';

export interface ListenerCertificate {
  /** "ns/name" of the Secret */
  secret: string;
  certPem: string;
  keyPem: string;
}

export interface ListenerInfo {
  gatewayKey: string;
  gateway: Gateway;
  spec: Listener;
  name: string;
  /** lower-cased; undefined = any host */
  hostname?: string;
  port: number;
  servedPort: number;
  protocol: string;
  /** where it is served: the Gateway's spec.addresses, else the proxy's bind address */
  addresses: string[];
  supportedKinds: RouteGroupKind[];
  accepted: Verdict;
  resolvedRefs: Verdict;
  conflicted: Verdict;
  /** accepted, not conflicted and its references resolve: routes on it carry traffic */
  serving: boolean;
  certificates: ListenerCertificate[];
}

export interface GatewayInfo {
  key: string;
  gateway: Gateway;
  accepted: Verdict;
  addresses: string[];
  listeners: ListenerInfo[];
}

export interface GatewayAnalysisOptions {
  controllerName: string;
  /** where Gateways without spec.addresses are served */
  defaultAddress: string;
  /** accept Gateways whose GatewayClass is not in the snapshot (from-files convenience) */
  acceptUnknownClasses?: boolean;
}

const SUPPORTED_KINDS: RouteGroupKind[] = [
  { group: GATEWAY_GROUP, kind: 'HTTPRoute' },
  { group: GATEWAY_GROUP, kind: 'GRPCRoute' },
];

/** design.md: a listener on port P is served on P when P >= 1024, else on P + 10000. */
export const servedPortFor = (port: number): number => (port >= 1024 ? port : port + 10000);

const isWildcardAddress = (a: string): boolean => a === '0.0.0.0' || a === '::' || a === '';

/** Classes whose controllerName is ours, by name. */
export function ourGatewayClasses(index: InputsIndex, controllerName: string): Set<string> {
  return new Set(
    index.inputs.gatewayClasses
      .filter((c) => c.spec?.controllerName === controllerName)
      .map((c) => c.metadata.name),
  );
}

function isOurs(
  gw: Gateway,
  classes: Set<string>,
  index: InputsIndex,
  options: GatewayAnalysisOptions,
): boolean {
  const cls = gw.spec?.gatewayClassName;
  if (classes.has(cls)) return true;
  return (
    Boolean(options.acceptUnknownClasses) && !index.inputs.gatewayClasses.some((c) => c.metadata.name === cls)
  );
}

function gatewayAddresses(gw: Gateway, defaultAddress: string): { addresses: string[]; accepted: Verdict } {
  const specAddresses = gw.spec.addresses ?? [];
  if (!specAddresses.length) return { addresses: [defaultAddress], accepted: ok('Accepted') };
  const bad = specAddresses.find((a) => (a.type ?? 'IPAddress') !== 'IPAddress');
  if (bad) {
    return {
      addresses: [],
      accepted: fail(
        'UnsupportedAddress',
        `spec.addresses: type ${bad.type} is not supported; only IPAddress is`,
      ),
    };
  }
  return { addresses: specAddresses.map((a) => a.value), accepted: ok('Accepted') };
}

function routeKinds(listener: Listener): { kinds: RouteGroupKind[]; invalid: string[] } {
  const wanted = listener.allowedRoutes?.kinds;
  if (!wanted || wanted.length === 0) return { kinds: SUPPORTED_KINDS, invalid: [] };
  const kinds: RouteGroupKind[] = [];
  const invalid: string[] = [];
  for (const k of wanted) {
    const group = k.group ?? GATEWAY_GROUP;
    if (SUPPORTED_KINDS.some((s) => s.kind === k.kind && s.group === group))
      kinds.push({ group, kind: k.kind });
    else invalid.push(`${group}/${k.kind}`);
  }
  return { kinds, invalid };
}

function decodeSecretField(data: Record<string, string> | undefined, field: string): string | undefined {
  const v = data?.[field];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
}

function resolveCertificates(
  gw: Gateway,
  listener: Listener,
  index: InputsIndex,
): { certs: ListenerCertificate[]; verdict: Verdict } {
  const refs = listener.tls?.certificateRefs ?? [];
  if (!refs.length) {
    return {
      certs: [],
      verdict: fail(
        'InvalidCertificateRef',
        `listener ${listener.name}: tls.certificateRefs is empty; an HTTPS listener needs a certificate`,
      ),
    };
  }
  const gwNs = gw.metadata.namespace ?? 'default';
  const certs: ListenerCertificate[] = [];
  for (const ref of refs) {
    const ns = ref.namespace ?? gwNs;
    const where = `listener ${listener.name}: certificateRef ${ns}/${ref.name}`;
    if ((ref.group ?? '') !== '' || (ref.kind ?? 'Secret') !== 'Secret') {
      return {
        certs,
        verdict: fail(
          'InvalidCertificateRef',
          `${where}: only core Secrets are supported, not ${ref.group ?? ''}/${ref.kind}`,
        ),
      };
    }
    if (ns !== gwNs) {
      const granted = referenceGranted(index, {
        from: { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gwNs },
        to: { group: '', kind: 'Secret', namespace: ns, name: ref.name },
      });
      if (!granted)
        return {
          certs,
          verdict: fail(
            'RefNotPermitted',
            `${where}: no ReferenceGrant in ${ns} lets Gateways of ${gwNs} use it`,
          ),
        };
    }
    const secret = index.secrets.get(`${ns}/${ref.name}`);
    if (!secret) return { certs, verdict: fail('InvalidCertificateRef', `${where}: Secret not found`) };
    const data = { ...(secret.data ?? {}) };
    for (const [k, v] of Object.entries(secret.stringData ?? {})) data[k] = Buffer.from(v).toString('base64');
    const certPem = decodeSecretField(data, 'tls.crt');
    const keyPem = decodeSecretField(data, 'tls.key');
    if (!certPem?.includes('-----BEGIN') || !keyPem?.includes('-----BEGIN')) {
      return {
        certs,
        verdict: fail('InvalidCertificateRef', `${where}: Secret has no PEM tls.crt and tls.key`),
      };
    }
    certs.push({ secret: `${ns}/${ref.name}`, certPem, keyPem });
  }
  return { certs, verdict: ok('ResolvedRefs') };
}

function analyzeListener(
  gw: Gateway,
  gwKey: string,
  listener: Listener,
  addresses: string[],
  index: InputsIndex,
): ListenerInfo {
  const protocol = listener.protocol;
  const { kinds, invalid } = routeKinds(listener);
  let accepted = ok('Accepted');
  let resolvedRefs = ok('ResolvedRefs');
  let certificates: ListenerCertificate[] = [];
  if (protocol !== 'HTTP' && protocol !== 'HTTPS') {
    accepted = fail(
      'UnsupportedProtocol',
      `listener ${listener.name}: protocol ${protocol} is not supported; use HTTP or HTTPS`,
    );
  } else if (protocol === 'HTTPS' && (listener.tls?.mode ?? 'Terminate') !== 'Terminate') {
    accepted = fail(
      'UnsupportedProtocol',
      `listener ${listener.name}: HTTPS needs tls.mode Terminate, not ${listener.tls?.mode}`,
    );
  }
  if (invalid.length) {
    resolvedRefs = fail(
      'InvalidRouteKinds',
      `listener ${listener.name}: allowedRoutes.kinds ${invalid.join(', ')} are not supported`,
    );
  }
  if (protocol === 'HTTPS' && accepted.status === 'True') {
    const r = resolveCertificates(gw, listener, index);
    certificates = r.certs;
    if (r.verdict.status !== 'True') resolvedRefs = r.verdict;
  }
  return {
    gatewayKey: gwKey,
    gateway: gw,
    spec: listener,
    name: listener.name,
    hostname: listener.hostname ? listener.hostname.toLowerCase() : undefined,
    port: listener.port,
    servedPort: servedPortFor(listener.port),
    protocol,
    addresses,
    supportedKinds: kinds,
    accepted,
    resolvedRefs,
    conflicted: fail('NoConflicts', ''),
    serving: false,
    certificates,
  };
}

/** Listeners of one Gateway sharing a port must agree on the protocol and differ in hostname. */
function markInternalConflicts(listeners: ListenerInfo[]): void {
  const byPort = new Map<number, ListenerInfo[]>();
  for (const l of listeners) byPort.set(l.port, [...(byPort.get(l.port) ?? []), l]);
  for (const group of byPort.values()) {
    const protocols = new Set(group.map((l) => l.protocol));
    for (const l of group) {
      if (protocols.size > 1) {
        l.conflicted = ok(
          'ProtocolConflict',
          `listener ${l.name}: port ${l.port} is used with protocols ${[...protocols].join(' and ')}`,
        );
      } else if (group.some((o) => o !== l && (o.hostname ?? '') === (l.hostname ?? ''))) {
        l.conflicted = ok(
          'HostnameConflict',
          `listener ${l.name}: another listener on port ${l.port} has the same hostname '${l.hostname ?? ''}'`,
        );
      }
    }
  }
}

const olderFirst = (a: Gateway, b: Gateway): number => {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace ?? 'default'}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? 'default'}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/** Two Gateways may not share an address and port: the older keeps it, the other's listener is refused. */
function markCrossGatewayConflicts(gateways: GatewayInfo[]): void {
  const claimed: { address: string; port: number; gatewayKey: string }[] = [];
  for (const gw of gateways) {
    const mine: typeof claimed = [];
    for (const l of gw.listeners) {
      for (const address of l.addresses) {
        const clash = claimed.find(
          (c) =>
            c.port === l.servedPort &&
            (c.address === address || isWildcardAddress(c.address) || isWildcardAddress(address)),
        );
        if (clash) {
          l.accepted = fail(
            'PortUnavailable',
            `listener ${l.name}: ${address}:${l.servedPort} is already served for Gateway ${clash.gatewayKey}`,
          );
        } else {
          mine.push({ address, port: l.servedPort, gatewayKey: gw.key });
        }
      }
    }
    claimed.push(...mine);
  }
}

export function analyzeGateways(index: InputsIndex, options: GatewayAnalysisOptions): GatewayInfo[] {
  const classes = ourGatewayClasses(index, options.controllerName);
  const ours = index.inputs.gateways
    .filter((g) => g.spec && isOurs(g, classes, index, options))
    .sort(olderFirst);
  const out: GatewayInfo[] = [];
  for (const gw of ours) {
    const key = `${gw.metadata.namespace ?? 'default'}/${gw.metadata.name}`;
    const { addresses, accepted } = gatewayAddresses(gw, options.defaultAddress);
    const listeners = (gw.spec.listeners ?? []).map((l) => analyzeListener(gw, key, l, addresses, index));
    markInternalConflicts(listeners);
    out.push({ key, gateway: gw, accepted, addresses, listeners });
  }
  markCrossGatewayConflicts(out);
  for (const gw of out) {
    for (const l of gw.listeners) {
      l.serving =
        gw.accepted.status === 'True' &&
        l.accepted.status === 'True' &&
        l.conflicted.status === 'False' &&
        l.resolvedRefs.reason !== 'InvalidCertificateRef' &&
        l.resolvedRefs.reason !== 'RefNotPermitted';
    }
  }
  return out;
}
