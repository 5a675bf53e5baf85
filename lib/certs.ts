// X.509 for our own use: a CA, serving certificates and client certificates, as PEM. Used by the test
// control plane (kube-apiserver serving + admin client certs) and by the webhook's self-managed certs.
// ECDSA P-256 keys: quick to generate and accepted by kube-apiserver and Node's TLS alike.
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
// @peculiar/x509's dependency injection (tsyringe) needs the reflect polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

const crypto = webcrypto;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const keyAlgorithm = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface KeyPairPem {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface CertificatePem {
  certPem: string;
  keyPem: string;
  notAfter: Date;
}

/** A CA that can sign further certificates; keep `signer` in memory, persist the PEM. */
export interface CertificateAuthority extends CertificatePem {
  readonly signer: { cert: x509.X509Certificate; keys: CryptoKeyPair };
}

export interface CertificateOptions {
  commonName: string;
  /** subject O= entries; for Kubernetes client certs these are the groups (e.g. system:masters) */
  organizations?: string[];
  /** DNS names and IP addresses for a serving certificate */
  hosts?: string[];
  usage: 'server' | 'client' | 'server+client';
  validDays?: number;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(keyAlgorithm, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function privateKeyPem(keys: CryptoKeyPair): Promise<string> {
  return pem('PRIVATE KEY', await crypto.subtle.exportKey('pkcs8', keys.privateKey));
}

function subjectName(commonName: string, organizations: string[] = []): string {
  // RFC 4514 escaping for the characters our names can contain
  const esc = (v: string) => v.replace(/([,+"\\<>;=])/g, '\\$1');
  return [`CN=${esc(commonName)}`, ...organizations.map((o) => `O=${esc(o)}`)].join(', ');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  // a little backdating absorbs clock skew between processes
  const notBefore = new Date(Date.now() - 5 * 60 * 1000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * DAY_MS) };
}

export async function createCertificateAuthority(
  commonName: string,
  validDays = 365,
): Promise<CertificateAuthority> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: subjectName(commonName),
    ...validity(validDays),
    keys,
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certPem: cert.toString('pem') + '\n',
    keyPem: await privateKeyPem(keys),
    notAfter: cert.notAfter,
    signer: { cert, keys },
  };
}

export async function issueCertificate(
  ca: CertificateAuthority,
  options: CertificateOptions,
): Promise<CertificatePem> {
  const keys = await generateKeys();
  const usages: string[] = [];
  if (options.usage !== 'client') usages.push(x509.ExtendedKeyUsage.serverAuth);
  if (options.usage !== 'server') usages.push(x509.ExtendedKeyUsage.clientAuth);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(
      x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
      true,
    ),
    new x509.ExtendedKeyUsageExtension(usages),
    await x509.AuthorityKeyIdentifierExtension.create(ca.signer.keys.publicKey),
  ];
  if (options.hosts?.length) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        options.hosts.map((h) => ({ type: isIP(h) ? ('ip' as const) : ('dns' as const), value: h })),
      ),
    );
  }
  const cert = await x509.X509CertificateGenerator.create({
    subject: subjectName(options.commonName, options.organizations),
    issuer: ca.signer.cert.subject,
    ...validity(options.validDays ?? 365),
    publicKey: keys.publicKey,
    signingKey: ca.signer.keys.privateKey,
    signingAlgorithm,
    extensions,
  });
  return { certPem: cert.toString('pem') + '\n', keyPem: await privateKeyPem(keys), notAfter: cert.notAfter };
}

/** A bare key pair, e.g. for signing service-account tokens. */
export async function createKeyPair(): Promise<KeyPairPem> {
  const keys = await generateKeys();
  return {
    privateKeyPem: await privateKeyPem(keys),
    publicKeyPem: pem('PUBLIC KEY', await crypto.subtle.exportKey('spki', keys.publicKey)),
  };
}

/** A CA kept as PEM (e.g. in a Secret), made able to sign again. Only ECDSA P-256 CAs made here. */
export async function loadCertificateAuthority(
  certPem: string,
  keyPem: string,
): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  const der = Buffer.from(keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const privateKey = await crypto.subtle.importKey('pkcs8', der, keyAlgorithm, true, ['sign']);
  const publicKey = await cert.publicKey.export(keyAlgorithm, ['verify'], crypto);
  return { certPem, keyPem, notAfter: cert.notAfter, signer: { cert, keys: { privateKey, publicKey } } };
}
