import { describe, expect, it } from 'vitest';
import {
  isAlreadyExists,
  isConflict,
  isNotFound,
  isTransient,
  KubeApiError,
  KubeRequestError,
  resourceOf,
} from './client.ts';

describe('resourceOf', () => {
  it('names the resource (and subresource) of a REST path for metric labels', () => {
    expect(resourceOf('/api/v1/namespaces')).toBe('namespaces');
    expect(resourceOf('/api/v1/namespaces/acme')).toBe('namespaces');
    expect(resourceOf('/api/v1/namespaces/acme/status')).toBe('namespaces/status');
    expect(resourceOf('/apis/rbac.authorization.k8s.io/v1/namespaces/ns/rolebindings/x')).toBe(
      'rolebindings',
    );
    expect(resourceOf('/apis/tenantgate.io/v1alpha1/tenants/acme/status')).toBe('tenants/status');
    expect(resourceOf('/apis/gateway.networking.k8s.io/v1/httproutes?watch=1')).toBe('httproutes');
    expect(resourceOf('/apis/example.com/v1')).toBe('discovery');
  });
});

describe('KubeApiError', () => {
  it('keeps the status code and reason, and classifies', () => {
    const exists = new KubeApiError('POST', '/api/v1/namespaces', 409, {
      kind: 'Status',
      reason: 'AlreadyExists',
      message: 'namespaces "a" already exists',
    });
    expect(exists.message).toBe('POST /api/v1/namespaces: 409 AlreadyExists: namespaces "a" already exists');
    expect(exists.code).toBe('TG_KUBE_API');
    expect([isConflict(exists), isAlreadyExists(exists), isNotFound(exists), isTransient(exists)]).toEqual([
      true,
      true,
      false,
      false,
    ]);
    const conflict = new KubeApiError('PUT', '/x', 409, { reason: 'Conflict' });
    expect(isAlreadyExists(conflict)).toBe(false);
    expect(isTransient(new KubeApiError('GET', '/x', 503, {}))).toBe(true);
    expect(isTransient(new KubeRequestError(['GET', '/x', 'ECONNREFUSED']))).toBe(true);
  });
});
