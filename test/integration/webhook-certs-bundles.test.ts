// Against the run's real API server: the webhook's self-managed certificates in a Secret (created once,
// agreed on by racing replicas, renewed before expiry), and a platform team's policy bundle in a
// ConfigMap, hot-reloaded, with a broken version refused by an Event while the last good one serves.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createObject, deleteObject, replaceObject } from '../../kube/apply.ts';
import { KubeClient } from '../../kube/client.ts';
import { KINDS } from '../../kube/resources.ts';
import type { KubeObject } from '../../kube/types.ts';
import { buildBundle } from '../helpers/policies.ts';
import { ensureSecretCertificates } from '../../webhooks/certs.ts';
import { startWebhook, type RunningWebhook } from '../../webhooks/index.ts';
import { uniqueName } from '../env/names.ts';
import { testKubeConfig } from '../env/test-cluster.ts';

const DAY = 24 * 60 * 60 * 1000;

function ruleBundle(reason: string): Buffer {
  return buildBundle(
    {
      'r.rego': `package tenantgate.access
catalog := {"geo-fence": {"entrypoint": "tenantgate/access/geo", "description": "d", "schema": {"type": "object"}}}
geo := {"allow": true, "status": 200, "reason": "${reason}"}`,
    },
    ['tenantgate/access/catalog', 'tenantgate/access/geo'],
  );
}

describe('webhook certificates and policy bundles in a real API server', () => {
  const kc = testKubeConfig();
  const admin = new KubeClient({ kubeConfig: kc, userAgent: 'tenantgate-tests' });
  const namespace = uniqueName('tg-certs');

  beforeAll(async () => {
    await createObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  });
  afterAll(async () => {
    await deleteObject(admin, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }).catch(
      () => {},
    );
    await admin.close();
  });

  it('stores one set of certificates that racing replicas agree on, and renews it before expiry', async () => {
    const options = {
      client: admin,
      namespace,
      secretName: 'webhook-tls',
      hosts: ['tenantgate-webhook.tg.svc'],
      certValidDays: 90,
    };
    const [a, b] = await Promise.all([ensureSecretCertificates(options), ensureSecretCertificates(options)]);
    expect(b.certPem).toBe(a.certPem);
    const secret = await admin.get<KubeObject & { type?: string; data?: Record<string, string> }>(
      KINDS.Secret,
      { name: 'webhook-tls', namespace },
    );
    expect(secret?.type).toBe('kubernetes.io/tls');
    expect(Object.keys(secret!.data!).sort()).toEqual([
      'ca-cert.pem',
      'ca.crt',
      'ca.key',
      'tls.crt',
      'tls.key',
    ]);
    expect(Buffer.from(secret!.data!['tls.crt']!, 'base64').toString()).toBe(a.certPem);

    // a restart reads the same ones back
    expect((await ensureSecretCertificates(options)).certPem).toBe(a.certPem);
    // 70 days on, the 90-day certificate is due: renewed and stored, same CA
    const renewed = await ensureSecretCertificates({
      ...options,
      now: () => new Date(Date.now() + 70 * DAY),
    });
    expect(renewed.certPem).not.toBe(a.certPem);
    expect(renewed.caBundlePem).toBe(a.caBundlePem);
    expect((await ensureSecretCertificates(options)).certPem).toBe(renewed.certPem);
  });

  describe('a custom bundle from a ConfigMap', () => {
    let webhook: RunningWebhook | undefined;
    const configMap = (bytes: Buffer, resourceVersion?: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'team-rules', namespace, ...(resourceVersion ? { resourceVersion } : {}) },
      binaryData: { 'bundle.tar.gz': bytes.toString('base64') },
    });

    afterAll(() => webhook?.stop());

    it('hot-reloads it, and refuses a broken version with an Event while the last good one serves', async () => {
      await createObject(admin, configMap(ruleBundle('v1')));
      webhook = await startWebhook({
        kubeConfig: kc,
        url: 'https://127.0.0.1:{port}/validate',
        register: false,
        namespace,
        auditLogPath: `/tmp/${uniqueName('audit')}.jsonl`,
        policyConfig: {
          enforcement: { default: 'deny', policies: {} },
          bundles: [{ name: 'team', configMap: { namespace, name: 'team-rules', key: 'bundle.tar.gz' } }],
        },
      });
      const engine = webhook.engine;
      const input = {
        method: 'GET',
        path: '/',
        host: 'h',
        headers: {},
        source_ip: '10.0.0.1',
        route: { kind: 'HTTPRoute', namespace, name: 'r' },
        parameters: {},
      };
      expect(engine.evaluateAccess('geo-fence', input).reason).toBe('v1');

      const current = await admin.get(KINDS.ConfigMap, { name: 'team-rules', namespace });
      await replaceObject(admin, configMap(Buffer.from('not a bundle'), current!.metadata!.resourceVersion));
      await vi.waitFor(
        async () => {
          const events = await admin.list<
            KubeObject & { reason?: string; note?: string; regarding?: { kind?: string; name?: string } }
          >(KINDS.Event, { namespace });
          const refused = events.items.find((e) => e.reason === 'PolicyBundleRefused');
          expect(refused?.regarding).toMatchObject({ kind: 'ConfigMap', name: 'team-rules' });
          expect(refused?.note).toContain(
            "policy bundle 'team' refused; the last good version stays in force",
          );
        },
        { timeout: 15_000, interval: 250 },
      );
      expect(engine.evaluateAccess('geo-fence', input).reason).toBe('v1');

      const broken = await admin.get(KINDS.ConfigMap, { name: 'team-rules', namespace });
      await replaceObject(admin, configMap(ruleBundle('v2'), broken!.metadata!.resourceVersion));
      await vi.waitFor(() => expect(engine.evaluateAccess('geo-fence', input).reason).toBe('v2'), {
        timeout: 15_000,
      });
    });
  });
});
