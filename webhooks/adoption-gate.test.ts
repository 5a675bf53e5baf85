import { describe, expect, it } from 'vitest';
import { ADOPT_ANNOTATION } from '../api/common.ts';
import type { KubeClient } from '../kube/client.ts';
import { KINDS } from '../kube/resources.ts';
import type { AdmissionRequest } from '../policies/types.ts';
import type { AuditRecord } from './audit-log.ts';
import { createAdoptionGate, handOverIn } from './adoption-gate.ts';
import type { HandleResult } from './handler.ts';
import { review } from '../test/helpers/admission.ts';

const ns = (annotations?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'legacy', ...(annotations ? { annotations } : {}) },
});

function namespaceRequest(extra: Partial<AdmissionRequest>): AdmissionRequest {
  return {
    uid: 'b5e4c0de-0000-4000-8000-000000000002',
    kind: { group: '', version: 'v1', kind: 'Namespace' },
    resource: { group: '', version: 'v1', resource: 'namespaces' },
    operation: 'UPDATE',
    name: 'legacy',
    userInfo: { username: 'bob', groups: ['system:authenticated'] },
    object: ns({ [ADOPT_ANNOTATION]: 'acme' }),
    oldObject: ns(),
    dryRun: false,
    ...extra,
  };
}

/** A client whose SubjectAccessReviews answer `allowed`, or fail. */
function fakeClient(answer: boolean | Error): { client: KubeClient; reviews: unknown[] } {
  const reviews: unknown[] = [];
  const client = {
    resources: { resolve: async () => KINDS.SubjectAccessReview },
    request: async ({ body }: { body: { spec: unknown } }) => {
      reviews.push(body.spec);
      if (answer instanceof Error) throw answer;
      return { ...body, status: { allowed: answer } };
    },
  } as unknown as KubeClient;
  return { client, reviews };
}

const passThrough = (): HandleResult => ({
  status: 200,
  review: {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    response: { uid: 'x', allowed: true },
  },
});

describe('namespace hand-overs', () => {
  it('are Namespace writes that set or change the adopt-by annotation', () => {
    expect(handOverIn(namespaceRequest({}))).toEqual({ namespace: 'legacy', tenant: 'acme' });
    expect(handOverIn(namespaceRequest({ operation: 'CREATE', oldObject: null }))).toEqual({
      namespace: 'legacy',
      tenant: 'acme',
    });
    expect(handOverIn(namespaceRequest({ oldObject: ns({ [ADOPT_ANNOTATION]: 'globex' }) }))?.tenant).toBe(
      'acme',
    );
    // unchanged, removed, or not a Namespace: nothing to check
    expect(handOverIn(namespaceRequest({ oldObject: ns({ [ADOPT_ANNOTATION]: 'acme' }) }))).toBeUndefined();
    expect(handOverIn(namespaceRequest({ object: ns() }))).toBeUndefined();
    expect(
      handOverIn(namespaceRequest({ kind: { group: 'tenantgate.io', version: 'v1alpha1', kind: 'Tenant' } })),
    ).toBeUndefined();
  });

  it('asks the authorizer about the requester, and refuses with the policy named, recorded', async () => {
    const { client, reviews } = fakeClient(false);
    const records: AuditRecord[] = [];
    const gate = createAdoptionGate({
      handler: passThrough,
      client,
      audit: { record: (r) => void records.push(r) },
    });
    const result = await gate(review(namespaceRequest({})));
    expect(reviews).toEqual([
      {
        user: 'bob',
        groups: ['system:authenticated'],
        resourceAttributes: {
          verb: 'update',
          group: '',
          version: 'v1',
          resource: 'namespaces',
          name: 'legacy',
        },
      },
    ]);
    expect(result.status === 200 && result.review.response.allowed).toBe(false);
    expect(result.status === 200 && result.review.response.status?.message).toContain(
      "[namespace-adoption] metadata.annotations['tenantgate.io/adopt-by']: only someone who may update namespace 'legacy'",
    );
    expect(records.map((r) => [r.action, r.tenant, r.violations[0]?.policy])).toEqual([
      ['deny', 'acme', 'namespace-adoption'],
    ]);
  });

  it('records an admitted hand-over, and fails closed when the authorizer cannot be asked', async () => {
    const records: AuditRecord[] = [];
    const audit = { record: (r: AuditRecord) => void records.push(r) };
    const allowed = await createAdoptionGate({
      handler: passThrough,
      client: fakeClient(true).client,
      audit,
    })(review(namespaceRequest({})));
    expect(allowed.status === 200 && allowed.review.response.allowed).toBe(true);
    expect(records.map((r) => [r.action, r.allowed, r.user, r.name])).toEqual([
      ['allow', true, 'bob', 'legacy'],
    ]);

    const broken = await createAdoptionGate({
      handler: passThrough,
      client: fakeClient(new Error('connection refused')).client,
    })(review(namespaceRequest({})));
    expect(broken.status === 200 && broken.review.response.allowed).toBe(false);
    expect(broken.status === 200 && broken.review.response.status?.message).toContain('connection refused');
  });

  it('lets every other review through to the policies untouched', async () => {
    const { client, reviews } = fakeClient(false);
    const gate = createAdoptionGate({ handler: passThrough, client });
    const result = await gate(review(namespaceRequest({ object: ns() })));
    expect(result.status === 200 && result.review.response.allowed).toBe(true);
    expect(reviews).toEqual([]);
  });
});
