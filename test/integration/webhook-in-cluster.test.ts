// The webhook as it runs in a cluster: registered by Service (clientConfig.service), so the real API server
// resolves it through the Service and checks its certificate against the caBundle under the Service's DNS
// name (<service>.<namespace>.svc). Certificates rotate without a restart:
// - self-managed (Secret): a renewal stored by another replica reaches this one's rotation loop, which
//   serves the new certificate and patches the caBundle; the API server keeps calling it;
// - cert-manager (mounted directory): a renewed Secret, swapped in the way the kubelet updates a mount, is
//   served at once, while cert-manager's CA injector (played by the test) owns the caBundle.
//
// Test traffic stays on loopback. The API server refuses loopback EndpointSlice addresses, and there is no
// kube-proxy to route a cluster IP, so the Service is `type: ExternalName` with `externalName: localhost`:
// kube-apiserver's service resolver (ResolveCluster, the default without --enable-aggregator-routing)
// sends webhook calls for such a Service to externalName:<clientConfig.service.port>. The webhook listens on
// 127.0.0.1 and is registered with its own port as the Service port.
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createObject, deleteObject } from '../../kube/apply.ts';
import { KubeApiError, KubeClient } from '../../kube/client.ts';
import { freePort } from '../../kube/envtest/ports.ts';
import { KINDS } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import { createCertificateAuthority, issueCertificate } from '../../lib/certs.ts';
import { ensureSecretCertificates, splitPem } from '../../webhooks/certs.ts';
import { startWebhook, type RunningWebhook } from '../../webhooks/index.ts';
import { registerWebhook } from '../../webhooks/registration.ts';
import { uniqueName } from '../env/names.ts';
import { testKubeConfig } from '../env/test-cluster.ts';
import { eventually } from './tenant-fixtures.ts';

const TEST_LABEL = 'test.tenantgate.io/webhook-in-cluster';
const run = uniqueName('whc');
const namespace = uniqueName('tg-incluster');
const DAY = 24 * 60 * 60 * 1000;

const serviceHosts = (service: string) => [
  `${service}.${namespace}.svc`,
  `${service}.${namespace}.svc.cluster.local`,
  `${service}.${namespace}`,
  service,
];

const admin = new KubeClient({ kubeConfig: testKubeConfig(), userAgent: 'tenantgate-tests' });
const LOOPBACK = '127.0.0.1';
const webhooks: RunningWebhook[] = [];
const registrations: string[] = [];
const dirs: string[] = [];

/**
 * The Service the registration names: an ExternalName for localhost, which the API server's service
 * resolver turns into localhost:<clientConfig.service.port>, i.e. the webhook's loopback port.
 */
async function publish(service: string, port: number): Promise<void> {
  await createObject(admin, {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service, namespace },
    spec: { type: 'ExternalName', externalName: 'localhost', ports: [{ name: 'https', port }] },
  });
}

/**
 * A write the webhook refuses (a Tenant listing a namespace that exists and is not its own), as a dry run:
 * the API server's answer says whether it reached the webhook and trusted its certificate.
 */
async function askThroughApiServer(label: string): Promise<string> {
  try {
    await createObject(
      admin,
      {
        apiVersion: KINDS.Tenant.apiVersion,
        kind: 'Tenant',
        metadata: { name: uniqueName('probe'), labels: { [TEST_LABEL]: label } },
        spec: { namespaces: [{ name: namespace }] },
      },
      { dryRun: true },
    );
    return 'allowed';
  } catch (err) {
    if (err instanceof KubeApiError) return err.status.message ?? err.message;
    throw err;
  }
}

const refusedByWebhook = (message: string) =>
  message.includes('denied the request') && message.includes('[tenant-namespace-ownership]');

/** The certificate the webhook serves, by a TLS handshake under the Service's name, verified with `caPem`. */
function servedCertificate(port: number, servername: string, caPem: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: LOOPBACK, port, servername, ca: caPem }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (cert) resolve(cert);
      else reject(new Error('no peer certificate'));
    });
    socket.once('error', reject);
  });
}

async function caBundleOf(registration: string): Promise<string> {
  const vwc = await admin.get<KubeObject & { webhooks: { clientConfig: { caBundle?: string } }[] }>(
    KINDS.ValidatingWebhookConfiguration,
    { name: registration },
  );
  return Buffer.from(vwc?.webhooks[0]?.clientConfig.caBundle ?? '', 'base64').toString('utf8');
}

beforeAll(async () => {
  await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
});

afterAll(async () => {
  await Promise.all(webhooks.map((w) => w.stop()));
  for (const name of registrations) {
    await deleteObject(admin, {
      apiVersion: KINDS.ValidatingWebhookConfiguration.apiVersion,
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name },
    }).catch(() => {});
  }
  await deleteObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }).catch(
    () => {},
  );
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  await admin.close();
});

describe('the webhook registered by Service', () => {
  it('rotates self-managed certificates from the Secret: new certificate served, caBundle patched', async () => {
    const service = 'webhook-secret';
    const registration = uniqueName('tg-incluster-secret');
    registrations.push(registration);
    const label = `${run}-secret`;
    // the port is registered before the server starts (the registration is the webhook's own), so pick it
    const port = await freePort(LOOPBACK);
    const webhook = await startWebhook({
      kubeConfig: testKubeConfig(),
      namespace,
      serviceName: service,
      secretName: 'webhook-tls',
      address: `${LOOPBACK}:${port}`,
      servicePort: port,
      registrationName: registration,
      objectSelector: { matchLabels: { [TEST_LABEL]: label } },
      auditLogPath: join(tmpdir(), `${uniqueName('audit')}.jsonl`),
      certCheckIntervalMs: 200,
    });
    webhooks.push(webhook);
    await publish(service, webhook.port);

    const firstCa = webhook.caBundlePem;
    expect(splitPem(await caBundleOf(registration))).toEqual(splitPem(firstCa));
    const first = await servedCertificate(webhook.port, `${service}.${namespace}.svc`, firstCa);
    await eventually(async () => refusedByWebhook(await askThroughApiServer(label)), {
      what: 'the API server calling the webhook through its Service',
    });

    // another replica renews everything (CA included) and stores it in the shared Secret
    const renewed = await ensureSecretCertificates({
      client: admin,
      namespace,
      secretName: 'webhook-tls',
      hosts: serviceHosts(service),
      now: () => new Date(Date.now() + 3000 * DAY),
    });
    expect(renewed.caBundlePem).not.toBe(firstCa);

    // this replica's rotation loop: the caBundle holds the new CA...
    await eventually(
      async () => (await caBundleOf(registration)).includes(splitPem(renewed.caBundlePem)[0]!),
      {
        what: 'the caBundle patched with the new CA',
      },
    );
    // ...the new certificate is served (verified against the new CA under the Service's name)...
    const second = await eventually(
      async () => {
        const cert = await servedCertificate(
          webhook.port,
          `${service}.${namespace}.svc`,
          renewed.caBundlePem,
        );
        return cert.fingerprint256 !== first.fingerprint256 ? cert : undefined;
      },
      { what: 'the renewed certificate served' },
    );
    expect(second.fingerprint256).toBe(new X509Certificate(renewed.certPem).fingerprint256);
    // ...and the API server, trusting the patched bundle, still gets answers from it
    expect(refusedByWebhook(await askThroughApiServer(label))).toBe(true);
  });

  it('serves a renewed cert-manager certificate from the mounted directory at once', async () => {
    const service = 'webhook-certdir';
    const registration = uniqueName('tg-incluster-certdir');
    registrations.push(registration);
    const label = `${run}-certdir`;
    const ca = await createCertificateAuthority('test-cert-manager-ca', 30);
    const leaf = () =>
      issueCertificate(ca, {
        commonName: service,
        hosts: serviceHosts(service),
        usage: 'server',
        validDays: 30,
      });

    // the kubelet's layout of a mounted Secret: files are links through ..data, which is swapped atomically
    const dir = mkdtempSync(join(tmpdir(), 'tg-certdir-'));
    dirs.push(dir);
    let version = 0;
    const mount = (cert: { certPem: string; keyPem: string }) => {
      const data = `..${++version}`;
      mkdirSync(join(dir, data));
      writeFileSync(join(dir, data, 'tls.crt'), cert.certPem);
      writeFileSync(join(dir, data, 'tls.key'), cert.keyPem);
      writeFileSync(join(dir, data, 'ca.crt'), ca.certPem);
      symlinkSync(data, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      if (version === 1)
        for (const f of ['tls.crt', 'tls.key', 'ca.crt']) symlinkSync(`..data/${f}`, join(dir, f));
    };
    const firstLeaf = await leaf();
    mount(firstLeaf);

    const webhook = await startWebhook({
      kubeConfig: testKubeConfig(),
      namespace,
      serviceName: service,
      address: `${LOOPBACK}:0`,
      certDir: dir,
      auditLogPath: join(tmpdir(), `${uniqueName('audit')}.jsonl`),
      certCheckIntervalMs: 200,
    });
    webhooks.push(webhook);
    await publish(service, webhook.port);
    // with a certificate directory the caBundle is cert-manager's: the webhook registers nothing itself
    expect(await admin.get(KINDS.ValidatingWebhookConfiguration, { name: registration })).toBeUndefined();
    // cert-manager's CA injector
    await registerWebhook(admin, {
      name: registration,
      clientConfig: { service: { namespace, name: service, port: webhook.port } },
      caBundlePem: ca.certPem,
      operatorNamespace: namespace,
      objectSelector: { matchLabels: { [TEST_LABEL]: label } },
    });
    await eventually(async () => refusedByWebhook(await askThroughApiServer(label)), {
      what: 'the API server calling the webhook through its Service',
    });

    const renewedLeaf = await leaf();
    mount(renewedLeaf);
    await eventually(
      async () =>
        (await servedCertificate(webhook.port, `${service}.${namespace}.svc`, ca.certPem)).fingerprint256 ===
        new X509Certificate(renewedLeaf.certPem).fingerprint256,
      { what: 'the renewed certificate served' },
    );
    expect(refusedByWebhook(await askThroughApiServer(label))).toBe(true);
  });
});
