import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyEngine } from '../policies/engine.ts';
import { builtinBundleBytes } from '../test/helpers/policies.ts';
import { ephemeralCertificates, type ServingCertificates } from './certs.ts';
import { createAdmissionHandler } from './handler.ts';
import { startWebhookServer, type WebhookServer } from './server.ts';
import { inventory, review, routeRequest } from '../test/helpers/admission.ts';

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

describe('webhook HTTPS server', () => {
  let certs: ServingCertificates;
  let server: WebhookServer;
  // The deadline test holds its body open, so any deadline ends it; the other tests get one that a busy
  // machine cannot reach, so a slow evaluation is never mistaken for a refusal.
  let hurried: WebhookServer;

  beforeAll(async () => {
    certs = await ephemeralCertificates(['127.0.0.1']);
    const engine = await PolicyEngine.create({ builtinBundle: builtinBundleBytes() });
    engine.setData(inventory());
    const start = (deadlineMs: number) =>
      startWebhookServer({
        handler: createAdmissionHandler({ engine }),
        address: '127.0.0.1:0',
        certPem: certs.certPem,
        keyPem: certs.keyPem,
        bodyLimitBytes: 64 * 1024,
        deadlineMs,
      });
    [server, hurried] = await Promise.all([start(30_000), start(300)]);
  });
  afterAll(async () => {
    await server?.close();
    await hurried?.close();
  });

  /** POSTs `chunks` (written as they come; a never-ending body when `hold` is set). */
  function post(
    path: string,
    chunks: (string | Buffer)[],
    options: { hold?: boolean; contentType?: string; to?: WebhookServer } = {},
  ): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: (options.to ?? server).port,
          path,
          method: 'POST',
          ca: certs.caBundlePem,
          headers: { 'content-type': options.contentType ?? 'application/json' },
        },
        (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
            }),
          );
        },
      );
      req.on('error', reject);
      for (const c of chunks) req.write(c);
      if (!options.hold) req.end();
    });
  }

  it('answers an AdmissionReview over TLS, trusted through the caBundle', async () => {
    const reply = await post('/validate', [JSON.stringify(review(routeRequest()))]);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      kind: 'AdmissionReview',
      response: { uid: routeRequest().uid, allowed: true },
    });
  });

  it('answers 400 with the reason to a body that is not JSON', async () => {
    const reply = await post('/validate', ['{"apiVersion": "admission.k8s.io/v1", "kind": ']);
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ kind: 'Status', code: 400, reason: 'BadRequest' });
    expect(reply.body.message).toMatch(/^malformed AdmissionReview: .*JSON/);
  });

  it('answers 400 to JSON that is not an AdmissionReview, whatever the content type', async () => {
    const reply = await post('/validate', ['{"hello": "world"}'], { contentType: 'text/plain' });
    expect(reply).toEqual({
      status: 400,
      body: expect.objectContaining({
        message: 'malformed AdmissionReview: apiVersion is undefined, expected "admission.k8s.io/v1"',
      }),
    });
  });

  it('answers 413 to a body over the limit', async () => {
    const big = JSON.stringify(review(routeRequest({ hostnames: ['x'.repeat(70 * 1024)] })));
    const reply = await post('/validate', [big]);
    expect(reply.status).toBe(413);
    expect(reply.body.message).toBe('the AdmissionReview is larger than the 65536-byte limit');
  });

  it('answers a refusal itself when the review does not complete before its deadline', async () => {
    const reply = await post('/validate', ['{"apiVersion": "admission.k8s.io/v1",'], {
      hold: true,
      to: hurried,
    });
    expect(reply.status).toBe(504);
    expect(reply.body).toMatchObject({ code: 504, reason: 'Timeout' });
    expect(reply.body.message).toContain('could not decide within 300 ms; the change is not let through');
  });

  it('answers 404 elsewhere', async () => {
    expect((await post('/mutate', ['{}'])).status).toBe(404);
  });

  it('serves a new certificate after setCertificate, without a restart', async () => {
    const next = await ephemeralCertificates(['127.0.0.1']);
    server.setCertificate(next.certPem, next.keyPem);
    const agentless = (ca: string) =>
      new Promise<number>((resolve, reject) => {
        https
          .request({ host: '127.0.0.1', port: server.port, path: '/healthz', ca, agent: false }, (res) =>
            resolve(res.statusCode!),
          )
          .on('error', reject)
          .end();
      });
    await expect(agentless(next.caBundlePem)).resolves.toBe(200);
    await expect(agentless(certs.caBundlePem)).rejects.toThrow(/self-signed|unable to verify|certificate/);
  });
});
