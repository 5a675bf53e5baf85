import { beforeAll, describe, expect, it } from 'vitest';
import { PolicyEngine } from '../policies/engine.ts';
import { builtinBundleBytes } from '../test/helpers/policies.ts';
import type { AdmissionRequest, Decision } from '../policies/types.ts';
import type { AuditRecord } from './audit-log.ts';
import { createAdmissionHandler, type HandleResult } from './handler.ts';
import { goodRouteSpec, inventory, review, routeRequest } from '../test/helpers/admission.ts';

describe('AdmissionReview handler', () => {
  let engine: PolicyEngine;
  const audit: AuditRecord[] = [];
  const events: { request: AdmissionRequest; decisions: Decision[]; tenant?: string }[] = [];
  let handle: (body: unknown) => HandleResult;

  beforeAll(async () => {
    engine = await PolicyEngine.create({ builtinBundle: builtinBundleBytes() });
    engine.setData(inventory());
    const handler = createAdmissionHandler({
      engine,
      audit: { record: (r) => void audit.push(r) },
      events: { record: (request, decisions, tenant) => events.push({ request, decisions, tenant }) },
    });
    // a synchronous audit sink and no quota: every answer is synchronous
    handle = (body) => {
      const result = handler(body);
      if (result instanceof Promise) throw new Error('expected a synchronous answer');
      return result;
    };
  });

  /** breaks route-hostnames (a hostname outside the tenant's) and route-parent-refs (a private Gateway) */
  const violatingSpec = {
    ...goodRouteSpec,
    hostnames: ['www.example.org'],
    parentRefs: [{ name: 'private', namespace: 'infra' }],
  };

  const answer = (body: unknown) => {
    const result = handle(body);
    if (result.status !== 200) throw new Error(`expected 200, got ${result.status}: ${result.reason}`);
    return result.review;
  };

  it('allows a valid route, echoing the uid, and records nothing', () => {
    audit.length = 0;
    const r = answer(review(routeRequest()));
    expect(r).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: {
        uid: 'b5e4c0de-0000-4000-8000-000000000001',
        allowed: true,
        auditAnnotations: { tenant: 'acme' },
      },
    });
    expect(audit).toEqual([]);
  });

  it('denies with a 403 status listing each violation as [policy] message, and records it', () => {
    audit.length = 0;
    events.length = 0;
    const r = answer(review(routeRequest(violatingSpec)));
    expect(r.response.allowed).toBe(false);
    expect(r.response.status?.code).toBe(403);
    const lines = r.response.status!.message.split('\n');
    expect(lines[0]).toBe('HTTPRoute acme-web/shop is refused by tenantgate policies:');
    expect(lines.slice(1).map((l) => l.replace(/\].*/, ']'))).toEqual([
      '[route-hostnames]',
      '[route-parent-refs]',
    ]);
    expect(lines[1]).toMatch(
      /^\[route-hostnames\] spec\.hostnames\[0\] 'www\.example\.org' is not among .* — use a hostname/,
    );
    expect(r.response.auditAnnotations).toEqual({
      tenant: 'acme',
      decision: 'deny',
      policies: 'route-hostnames,route-parent-refs',
    });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      uid: 'b5e4c0de-0000-4000-8000-000000000001',
      user: 'alice',
      groups: ['system:authenticated'],
      operation: 'CREATE',
      kind: 'HTTPRoute',
      apiVersion: 'gateway.networking.k8s.io/v1',
      namespace: 'acme-web',
      name: 'shop',
      tenant: 'acme',
      action: 'deny',
      allowed: false,
      dryRun: false,
    });
    expect(audit[0]!.violations.map((v) => v.policy)).toEqual(['route-hostnames', 'route-parent-refs']);
    expect((audit[0]!.object as { spec: unknown }).spec).toEqual(violatingSpec);
    expect(events).toHaveLength(1);
  });

  it('allows warn-mode violations with warnings, and dry-run ones silently, recording both', async () => {
    audit.length = 0;
    engine.setEnforcement({
      default: 'deny',
      policies: { 'route-hostnames': 'warn', 'route-parent-refs': 'dryrun' },
    });
    try {
      const r = answer(review(routeRequest(violatingSpec)));
      expect(r.response.allowed).toBe(true);
      expect(r.response.status).toBeUndefined();
      expect(r.response.warnings).toHaveLength(1);
      expect(r.response.warnings![0]).toMatch(/^\[route-hostnames\] spec\.hostnames\[0\]/);
      expect(r.response.auditAnnotations).toMatchObject({
        decision: 'warn',
        policies: 'route-hostnames,route-parent-refs',
      });
      expect(audit[0]!.violations.map((v) => v.action)).toEqual(['warn', 'dryrun']);
      expect(audit[0]!.action).toBe('warn');
    } finally {
      engine.setEnforcement({ default: 'deny', policies: {} });
    }
  });

  it('evaluates dry-run requests and marks them in the audit record', () => {
    audit.length = 0;
    const r = answer(
      review(routeRequest({ ...goodRouteSpec, hostnames: ['www.example.org'] }, { dryRun: true })),
    );
    expect(r.response.allowed).toBe(false);
    expect(audit[0]).toMatchObject({ dryRun: true, action: 'deny' });
  });

  it('names the Tenant as the tenant of a Tenant change, and the owner of a namespace for Namespace changes', () => {
    const tenant = answer(
      review({
        uid: 'u2',
        kind: { group: 'tenantgate.io', version: 'v1alpha1', kind: 'Tenant' },
        operation: 'CREATE',
        name: 'initech',
        userInfo: { username: 'admin' },
        object: { metadata: { name: 'initech', uid: 'x' }, spec: { namespaces: [{ name: 'acme-web' }] } },
      }),
    );
    expect(tenant.response.auditAnnotations).toMatchObject({
      tenant: 'initech',
      policies: 'tenant-namespace-ownership,tenant-overlap',
    });
    const ns = answer(
      review({
        uid: 'u3',
        kind: { group: '', version: 'v1', kind: 'Namespace' },
        operation: 'UPDATE',
        name: 'acme-web',
        userInfo: { username: 'alice' },
        object: { metadata: { name: 'acme-web', labels: {} } },
        oldObject: { metadata: { name: 'acme-web', labels: { 'tenantgate.io/tenant': 'acme' } } },
      }),
    );
    expect(ns.response).toMatchObject({
      allowed: false,
      auditAnnotations: { tenant: 'acme', policies: 'platform-labels' },
    });
  });

  it.each([
    ['a JSON array', [], 'the body is not a JSON object'],
    [
      'another apiVersion',
      { ...review(routeRequest()), apiVersion: 'admission.k8s.io/v1beta1' },
      'apiVersion is "admission.k8s.io/v1beta1", expected "admission.k8s.io/v1"',
    ],
    ['another kind', { ...review(routeRequest()), kind: 'Pod' }, 'kind is "Pod", expected "AdmissionReview"'],
    [
      'no request',
      { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' },
      'request is missing or not an object',
    ],
    ['no uid', review({ ...routeRequest(), uid: undefined }), 'request.uid is missing or not a string'],
    [
      'a kind without group',
      review({ ...routeRequest(), kind: { kind: 'HTTPRoute', version: 'v1' } }),
      'request.kind must be {group, version, kind} strings',
    ],
    [
      'an unknown operation',
      review({ ...routeRequest(), operation: 'PATCH' }),
      'request.operation is "PATCH", expected one of CREATE, UPDATE, DELETE, CONNECT',
    ],
    [
      'no userInfo',
      review({ ...routeRequest(), userInfo: null }),
      'request.userInfo is missing or not an object',
    ],
    [
      'a CREATE without object',
      review({ ...routeRequest(), object: null }),
      'request.object is required for CREATE',
    ],
    [
      'an object that is a string',
      review({ ...routeRequest(), object: 'x' }),
      'request.object must be an object or null',
    ],
  ])('answers 400 to %s', (_name, body, reason) => {
    expect(handle(body)).toEqual({ status: 400, reason: `malformed AdmissionReview: ${reason}` });
  });

  it('accepts a DELETE, whose object is null', () => {
    const r = answer(
      review({
        uid: 'u4',
        kind: { group: 'gateway.networking.k8s.io', version: 'v1', kind: 'ReferenceGrant' },
        operation: 'DELETE',
        namespace: 'acme-api',
        name: 'g',
        userInfo: { username: 'alice' },
        object: null,
        oldObject: { metadata: { name: 'g', namespace: 'acme-api' } },
      }),
    );
    expect(r.response).toMatchObject({
      uid: 'u4',
      allowed: false,
      auditAnnotations: { policies: 'reference-grant-owners' },
    });
  });

  it('answers a violation only once a durable audit sink has stored it, and fails when it cannot', async () => {
    let store: (() => void) | undefined;
    const durable = createAdmissionHandler({
      engine,
      audit: { record: () => new Promise<void>((resolve) => (store = resolve)) },
    });
    const pending = durable(review(routeRequest(violatingSpec)));
    expect(pending).toBeInstanceOf(Promise);
    let answered = false;
    void (pending as Promise<HandleResult>).then(() => (answered = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(false);
    store!();
    expect(((await pending) as Extract<HandleResult, { status: 200 }>).review.response.allowed).toBe(false);
    // a valid route records nothing and is answered at once
    expect(durable(review(routeRequest()))).not.toBeInstanceOf(Promise);
    const failing = createAdmissionHandler({
      engine,
      audit: { record: () => Promise.reject(new Error('disk full')) },
    });
    await expect(failing(review(routeRequest(violatingSpec)))).rejects.toThrow('disk full');
  });
});

describe('AdmissionReview handler with a Tenant limit to hold', () => {
  let engine: PolicyEngine;
  beforeAll(async () => {
    engine = await PolicyEngine.create({ builtinBundle: builtinBundleBytes() });
    engine.setData(inventory());
  });

  const overLimit: Decision = {
    policy: 'route-count',
    bundle: 'builtin',
    action: 'deny',
    message:
      "tenant 'acme' already has 3 routes (HTTPRoutes + GRPCRoutes), 2 of them being created right now, and its limit is 3 — delete a route it no longer needs, or ask the platform team to raise spec.limits.maxRoutes of Tenant acme",
  };

  it('refuses a CREATE with no slot left like any other policy refusal, audited and evented', async () => {
    const audit: AuditRecord[] = [];
    const events: Decision[][] = [];
    const seen: Decision[][] = [];
    const handler = createAdmissionHandler({
      engine,
      audit: { record: (r) => void audit.push(r) },
      events: { record: (_request, decisions) => events.push(decisions) },
      quota: {
        review: (_request, decisions) => {
          seen.push([...decisions]);
          return Promise.resolve({ kind: 'decided', decisions: [overLimit] });
        },
      },
    });
    const result = await handler(review(routeRequest()));
    if (result.status !== 200) throw new Error(result.reason);
    // the quota saw the policies' own decisions first (none for a valid route)
    expect(seen).toEqual([[]]);
    expect(result.review.response).toMatchObject({
      allowed: false,
      status: {
        code: 403,
        message: `HTTPRoute acme-web/shop is refused by tenantgate policies:\n[route-count] ${overLimit.message}`,
      },
      auditAnnotations: { tenant: 'acme', decision: 'deny', policies: 'route-count' },
    });
    expect(audit.map((r) => r.violations.map((v) => v.policy))).toEqual([['route-count']]);
    expect(events).toEqual([[overLimit]]);
  });

  it('refuses the change (503, fail closed) when the limit could not be checked, recording no violation', async () => {
    const audit: AuditRecord[] = [];
    const handler = createAdmissionHandler({
      engine,
      audit: { record: (r) => void audit.push(r) },
      quota: {
        review: () => Promise.resolve({ kind: 'error', message: '[route-count] could not reserve — retry' }),
      },
    });
    const result = await handler(review(routeRequest()));
    if (result.status !== 200) throw new Error(result.reason);
    expect(result.review.response).toEqual({
      uid: 'b5e4c0de-0000-4000-8000-000000000001',
      allowed: false,
      status: { code: 503, message: '[route-count] could not reserve — retry' },
    });
    expect(audit).toEqual([]);
  });

  it('answers synchronously when the quota has nothing to hold', () => {
    const handler = createAdmissionHandler({ engine, quota: { review: () => undefined } });
    const result = handler(review(routeRequest()));
    expect(result).not.toBeInstanceOf(Promise);
    expect(result).toMatchObject({ status: 200, review: { response: { allowed: true } } });
  });
});
