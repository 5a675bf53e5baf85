import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renew, splitPem } from './certs.ts';

const DAY = 24 * 60 * 60 * 1000;
const hosts = ['tenantgate-webhook.tenantgate-system.svc', '127.0.0.1'];

describe('self-managed webhook certificates', () => {
  it('creates a CA and a serving certificate for the hosts, signed by it', async () => {
    const s = await renew(undefined, { hosts });
    const cert = new X509Certificate(s.certPem);
    expect(cert.checkHost('tenantgate-webhook.tenantgate-system.svc')).toBeDefined();
    expect(cert.checkIP('127.0.0.1')).toBeDefined();
    expect(cert.verify(new X509Certificate(s.caCertPem).publicKey)).toBe(true);
    expect(splitPem(s.caBundlePem)).toEqual([s.caCertPem]);
  });

  it('keeps what is valid, as the same object (nothing to store)', async () => {
    const s = await renew(undefined, { hosts });
    expect(await renew(s, { hosts, now: () => new Date(Date.now() + 100 * DAY) })).toBe(s);
  });

  it('renews the serving certificate with the same CA before it expires', async () => {
    const s = await renew(undefined, { hosts, certValidDays: 90 });
    const later = await renew(s, { hosts, certValidDays: 90, now: () => new Date(Date.now() + 70 * DAY) });
    expect(later.certPem).not.toBe(s.certPem);
    expect(later.caCertPem).toBe(s.caCertPem);
    expect(later.caBundlePem).toBe(s.caBundlePem);
  });

  it('re-issues the certificate when the hosts change', async () => {
    const s = await renew(undefined, { hosts });
    const next = await renew(s, { hosts: [...hosts, 'tenantgate-webhook'] });
    expect(new X509Certificate(next.certPem).checkHost('tenantgate-webhook')).toBeDefined();
    expect(next.caCertPem).toBe(s.caCertPem);
  });

  it('rotates the CA before it expires, trusting old and new until the old one expires', async () => {
    const s = await renew(undefined, { hosts, caValidDays: 300, certValidDays: 30 });
    const now = Date.now() + 250 * DAY;
    const next = await renew(s, { hosts, caValidDays: 300, certValidDays: 30, now: () => new Date(now) });
    expect(next.caCertPem).not.toBe(s.caCertPem);
    expect(splitPem(next.caBundlePem)).toEqual([next.caCertPem, s.caCertPem]);
    expect(new X509Certificate(next.certPem).verify(new X509Certificate(next.caCertPem).publicKey)).toBe(
      true,
    );
    // once the old CA has expired it leaves the bundle
    const after = await renew(next, {
      hosts,
      caValidDays: 300,
      certValidDays: 30,
      now: () => new Date(Date.now() + 310 * DAY),
    });
    expect(splitPem(after.caBundlePem)).toEqual([after.caCertPem]);
  });
});
