// Self-managed webhook certificates: a CA and a serving certificate kept in a Secret, shared by every
// replica, renewed before they expire. The API server trusts the webhook through the caBundle of the
// ValidatingWebhookConfiguration; on a CA change the bundle holds the new and the old CA until the old
// one expires, so that no replica's certificate is distrusted in between. (cert-manager is the documented
// alternative: docs/policies.md.)
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createObject, replaceObject } from '../kube/apply.ts';
import { isAlreadyExists, isConflict, type KubeClient } from '../kube/client.ts';
import { KINDS } from '../kube/resources.ts';
import type { KubeObject } from '../kube/types.ts';
import {
  createCertificateAuthority,
  issueCertificate,
  loadCertificateAuthority,
  type CertificateAuthority,
} from '../lib/certs.ts';
import { defineError } from '../lib/errors.ts';
import { componentLogger, type Logger } from '../lib/logger.ts';

export const CertificateStoreRaceError = defineError(
  'TG_WEBHOOK_CERT_STORE_RACE',
  'could not store webhook certificates in Secret %s: another writer changed it first %s times in a row; check that no other controller rewrites this Secret; two webhook Deployments in one namespace need different secretName options',
);
/** reads and writes of the Secret before giving up on a race with other replicas */
const STORE_ATTEMPTS = 5;

const DAY_MS = 24 * 60 * 60 * 1000;

export interface ServingCertificates {
  /** PEM of every CA the API server should trust (the current one first) */
  caBundlePem: string;
  certPem: string;
  keyPem: string;
  /** when the serving certificate expires */
  notAfter: Date;
}

export interface CertificateOptions {
  /** DNS names and IPs the serving certificate is for (the Service's names, or 127.0.0.1 locally) */
  hosts: string[];
  caValidDays?: number;
  certValidDays?: number;
  /** renew what expires within this many days; default: a third of its lifetime */
  renewBeforeDays?: number;
  now?: () => Date;
}

export interface SecretCertificateOptions extends CertificateOptions {
  client: KubeClient;
  namespace: string;
  secretName: string;
  logger?: Logger;
}

interface SecretObject extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

/** What the Secret holds, decoded. */
interface Stored {
  caBundlePem: string;
  caCertPem: string;
  caKeyPem: string;
  certPem: string;
  keyPem: string;
}

/**
 * Returns valid serving certificates from the Secret, renewing (and storing) what is missing or due.
 * Safe with several replicas: a write that loses a race re-reads what the winner stored.
 */
export async function ensureSecretCertificates(
  options: SecretCertificateOptions,
): Promise<ServingCertificates> {
  const log = options.logger ?? componentLogger('webhook-certs');
  for (let attempt = 0; attempt < STORE_ATTEMPTS; attempt++) {
    const secret = await options.client.get<SecretObject>(KINDS.Secret, {
      name: options.secretName,
      namespace: options.namespace,
    });
    const stored = secret ? decode(secret) : undefined;
    const next = await renew(stored, options);
    if (next === stored && stored) return served(stored);
    const body: SecretObject & {
      apiVersion: string;
      kind: string;
      metadata: { name: string; namespace: string };
    } = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: options.secretName,
        namespace: options.namespace,
        labels: { 'app.kubernetes.io/name': 'tenantgate', 'app.kubernetes.io/component': 'webhook' },
        ...(secret?.metadata?.resourceVersion ? { resourceVersion: secret.metadata.resourceVersion } : {}),
      },
      type: 'kubernetes.io/tls',
      data: encode(next),
    };
    try {
      if (secret) await replaceObject(options.client, body);
      else await createObject(options.client, body);
      log.info('webhook certificates renewed', {
        secret: `${options.namespace}/${options.secretName}`,
        newCa: next.caCertPem !== stored?.caCertPem,
        notAfter: new X509Certificate(next.certPem).validTo,
      });
      return served(next);
    } catch (err) {
      if (!isConflict(err) && !isAlreadyExists(err)) throw err;
      // another replica wrote first: use (or renew) what it stored
    }
  }
  throw new CertificateStoreRaceError([`${options.namespace}/${options.secretName}`, STORE_ATTEMPTS]);
}

/** The certificates to hold next: `stored` itself when nothing is due. Pure apart from key generation. */
export async function renew(stored: Stored | undefined, options: CertificateOptions): Promise<Stored> {
  const now = options.now?.() ?? new Date();
  const caDays = options.caValidDays ?? 3650;
  const certDays = options.certValidDays ?? 365;
  let ca: CertificateAuthority | undefined;
  let caBundle: string[] = [];
  if (stored && !due(stored.caCertPem, caDays, options.renewBeforeDays, now)) {
    ca = await loadCertificateAuthority(stored.caCertPem, stored.caKeyPem);
    caBundle = splitPem(stored.caBundlePem).filter((pem) => !expired(pem, now));
  }
  const certOk =
    stored &&
    ca &&
    !due(stored.certPem, certDays, options.renewBeforeDays, now) &&
    covers(stored.certPem, options.hosts) &&
    signedBy(stored.certPem, stored.caCertPem);
  if (stored && certOk && caBundle.length === splitPem(stored.caBundlePem).length) return stored;
  if (!ca) {
    ca = await createCertificateAuthority('tenantgate-webhook-ca', caDays);
    // keep trusting the old CA while certificates it signed may still be served
    caBundle = [
      ca.certPem,
      ...(stored ? splitPem(stored.caBundlePem).filter((pem) => !expired(pem, now)) : []),
    ];
  }
  const cert = certOk
    ? { certPem: stored!.certPem, keyPem: stored!.keyPem }
    : await issueCertificate(ca, {
        commonName: options.hosts[0] ?? 'tenantgate-webhook',
        hosts: options.hosts,
        usage: 'server',
        validDays: certDays,
      });
  return {
    caBundlePem: caBundle.join(''),
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    certPem: cert.certPem,
    keyPem: cert.keyPem,
  };
}

function served(s: Stored): ServingCertificates {
  return {
    caBundlePem: s.caBundlePem,
    certPem: s.certPem,
    keyPem: s.keyPem,
    notAfter: new Date(new X509Certificate(s.certPem).validTo),
  };
}

function decode(secret: SecretObject): Stored | undefined {
  const d = secret.data ?? {};
  const get = (k: string) => (d[k] ? Buffer.from(d[k], 'base64').toString('utf8') : '');
  const s = {
    caBundlePem: get('ca.crt'),
    caCertPem: get('ca-cert.pem'),
    caKeyPem: get('ca.key'),
    certPem: get('tls.crt'),
    keyPem: get('tls.key'),
  };
  if (!s.caCertPem) s.caCertPem = splitPem(s.caBundlePem)[0] ?? '';
  return Object.values(s).every(Boolean) ? s : undefined;
}

function encode(s: Stored): Record<string, string> {
  const b64 = (v: string) => Buffer.from(v, 'utf8').toString('base64');
  return {
    'ca.crt': b64(s.caBundlePem),
    'ca-cert.pem': b64(s.caCertPem),
    'ca.key': b64(s.caKeyPem),
    'tls.crt': b64(s.certPem),
    'tls.key': b64(s.keyPem),
  };
}

export function splitPem(bundle: string): string[] {
  return (
    bundle
      .match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)
      ?.map((p) => (p.endsWith('\n') ? p : `${p}\n`)) ?? []
  );
}

/** Expires within renewBeforeDays (default a third of `lifetimeDays`), or is unreadable. */
function due(pem: string, lifetimeDays: number, renewBeforeDays: number | undefined, now: Date): boolean {
  try {
    const notAfter = new Date(new X509Certificate(pem).validTo).getTime();
    return notAfter - now.getTime() < (renewBeforeDays ?? lifetimeDays / 3) * DAY_MS;
  } catch {
    return true;
  }
}

function expired(pem: string, now: Date): boolean {
  try {
    return new Date(new X509Certificate(pem).validTo).getTime() <= now.getTime();
  } catch {
    return true;
  }
}

function covers(pem: string, hosts: string[]): boolean {
  const cert = new X509Certificate(pem);
  return hosts.every((h) => (isIP(h) ? cert.checkIP(h) : cert.checkHost(h)) !== undefined);
}

function signedBy(pem: string, caPem: string): boolean {
  try {
    return new X509Certificate(pem).verify(new X509Certificate(caPem).publicKey);
  } catch {
    return false;
  }
}

/** Serving certificates held in memory only (`tenantgate local`, tests): no Secret to share them through. */
export async function ephemeralCertificates(hosts: string[]): Promise<ServingCertificates> {
  const ca = await createCertificateAuthority('tenantgate-webhook-ca', 3650);
  const cert = await issueCertificate(ca, {
    commonName: hosts[0] ?? 'tenantgate-webhook',
    hosts,
    usage: 'server',
    validDays: 365,
  });
  return { caBundlePem: ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem, notAfter: cert.notAfter };
}

/** Certificates mounted from a Secret someone else manages (cert-manager): tls.crt, tls.key, ca.crt. */
export async function readCertificateDir(dir: string): Promise<ServingCertificates> {
  const read = (f: string) => readFile(join(dir, f), 'utf8');
  const [certPem, keyPem] = await Promise.all([read('tls.crt'), read('tls.key')]);
  const caBundlePem = await read('ca.crt').catch(() => '');
  return { caBundlePem, certPem, keyPem, notAfter: new Date(new X509Certificate(certPem).validTo) };
}
