import { describe, expect, it } from 'vitest';
import type { Tenant } from '../api/tenant.ts';
import { desiredStatus, readyCondition, statusChanged } from './tenant-status.ts';

const tenant: Tenant = {
  apiVersion: 'tenantgate.io/v1alpha1',
  kind: 'Tenant',
  metadata: { name: 'acme', generation: 4 },
  spec: { namespaces: [{ name: 'a' }] },
};
const ok = {
  namespaces: [
    { name: 'a', ready: true },
    { name: 'b', ready: true },
  ],
  routes: 2,
  gatewayProblems: [],
};

describe('readyCondition', () => {
  it('is True/Reconciled when every namespace is ready, mentioning Gateway problems', () => {
    expect(readyCondition(ok)).toEqual({
      status: 'True',
      reason: 'Reconciled',
      message: '2 namespaces ready.',
    });
    expect(readyCondition({ ...ok, gatewayProblems: ['Gateway infra/x not found'] }).message).toBe(
      '2 namespaces ready. Gateway problems: Gateway infra/x not found.',
    );
  });

  it('says why not, in order of importance', () => {
    const conflict = {
      name: 'b',
      ready: false,
      conflict: true,
      message: 'namespace b belongs to Tenant other',
    };
    const terminating = { name: 'c', ready: false, terminating: true };
    expect(readyCondition({ ...ok, error: 'boom', namespaces: [conflict] })).toMatchObject({
      status: 'False',
      reason: 'ReconcileError',
      message: 'boom',
    });
    expect(readyCondition({ ...ok, namespaces: [conflict, terminating] })).toMatchObject({
      reason: 'NamespaceConflict',
      message: conflict.message,
    });
    expect(readyCondition({ ...ok, namespaces: [terminating] })).toMatchObject({
      reason: 'NamespaceTerminating',
    });
    expect(readyCondition({ ...ok, progressing: 'creating b' })).toMatchObject({
      status: 'False',
      reason: 'Progressing',
      message: 'creating b',
    });
  });
});

describe('desiredStatus / statusChanged', () => {
  it('lists the RoleBindings and ReferenceGrants kept in each namespace', () => {
    const children = new Map([
      [
        'a',
        [
          { kind: 'ReferenceGrant', metadata: { name: 'tenantgate-acme' } },
          { kind: 'RoleBinding', metadata: { name: 'tenantgate-owners' } },
          { kind: 'RoleBinding', metadata: { name: 'tenantgate-extra-0-view' } },
        ],
      ],
    ]);
    const status = desiredStatus(tenant, { ...ok, children }, new Date());
    expect(status.namespaces?.[0]).toEqual({
      name: 'a',
      ready: true,
      roleBindings: ['tenantgate-extra-0-view', 'tenantgate-owners'],
      referenceGrants: ['tenantgate-acme'],
    });
    expect(status.namespaces?.[1]).toEqual({ name: 'b', ready: true });
    expect(statusChanged(desiredStatus(tenant, ok, new Date()), status)).toBe(true);
  });

  it('reports the generation, namespaces and routes, and keeps lastTransitionTime while the status holds', () => {
    const first = desiredStatus(tenant, ok, new Date('2030-01-01T00:00:00.123Z'));
    expect(first).toEqual({
      observedGeneration: 4,
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Reconciled',
          message: '2 namespaces ready.',
          observedGeneration: 4,
          lastTransitionTime: '2030-01-01T00:00:00Z',
        },
      ],
      namespaces: [
        { name: 'a', ready: true },
        { name: 'b', ready: true },
      ],
      namespacesReady: '2/2',
      routes: 2,
    });
    const again = desiredStatus({ ...tenant, status: first }, ok, new Date('2030-01-02T00:00:00Z'));
    expect(again.conditions?.[0]?.lastTransitionTime).toBe('2030-01-01T00:00:00Z');
    expect(statusChanged(first, again)).toBe(false);
    expect(
      statusChanged(first, desiredStatus({ ...tenant, status: first }, { ...ok, routes: 3 }, new Date())),
    ).toBe(true);
    const failing = desiredStatus(
      { ...tenant, status: first },
      { ...ok, error: 'x' },
      new Date('2030-01-03T00:00:00Z'),
    );
    expect(failing.conditions?.[0]?.lastTransitionTime).toBe('2030-01-03T00:00:00Z');
    expect(statusChanged(undefined, first)).toBe(true);
  });
});
