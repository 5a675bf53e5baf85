import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createCertificateAuthority, createKeyPair, issueCertificate } from './certs.ts';

describe('certificates', () => {
  it('issues a serving certificate a TLS client accepts with the CA, for the names it lists', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const serving = await issueCertificate(ca, {
      commonName: 'server',
      hosts: ['127.0.0.1', 'localhost'],
      usage: 'server',
    });
    const server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (_req, res) =>
      res.end('hello'),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const get = (servername?: string) =>
        new Promise<string>((resolve, reject) => {
          https
            .get(
              { host: '127.0.0.1', port, ca: ca.certPem, ...(servername ? { servername } : {}) },
              (res) => {
                let body = '';
                res.on('data', (c: Buffer) => (body += c));
                res.on('end', () => resolve(body));
              },
            )
            .on('error', reject);
        });
      await expect(get()).resolves.toBe('hello');
      await expect(get('localhost')).resolves.toBe('hello');
      await expect(get('elsewhere.example')).rejects.toThrow(/altnames/);
      // a CA the server was not issued by is refused
      const other = await createCertificateAuthority('other-ca');
      await expect(
        new Promise((resolve, reject) =>
          https.get({ host: '127.0.0.1', port, ca: other.certPem }, resolve).on('error', reject),
        ),
      ).rejects.toThrow(/certificate/i);
    } finally {
      server.close();
    }
  });

  it('puts groups in O= and marks client usage for Kubernetes client certs', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const client = await issueCertificate(ca, {
      commonName: 'admin',
      organizations: ['system:masters'],
      usage: 'client',
    });
    const cert = new X509Certificate(client.certPem);
    expect(cert.subject).toContain('CN=admin');
    expect(cert.subject).toContain('O=system:masters');
    expect(cert.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(cert.ca).toBe(false);
    expect(new X509Certificate(ca.certPem).ca).toBe(true);
  });

  it('lists IP and DNS subject alternative names', async () => {
    const ca = await createCertificateAuthority('test-ca');
    const serving = await issueCertificate(ca, {
      commonName: 's',
      hosts: ['127.0.0.1', 'webhook.svc'],
      usage: 'server',
      validDays: 2,
    });
    const cert = new X509Certificate(serving.certPem);
    expect(cert.subjectAltName).toBe('IP Address:127.0.0.1, DNS:webhook.svc');
    const days = (serving.notAfter.getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(1.9);
    expect(days).toBeLessThan(2.1);
  });

  it('makes key pairs in PEM', async () => {
    const pair = await createKeyPair();
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(pair.publicKeyPem).toMatch(/-----END PUBLIC KEY-----\n$/);
  });
});
