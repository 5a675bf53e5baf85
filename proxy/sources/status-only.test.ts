import { describe, expect, it } from 'vitest';
import { onlyStatusChanged } from './status-only.ts';

const route = (over: Record<string, unknown> = {}, meta: Record<string, unknown> = {}) => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'r', namespace: 'team', resourceVersion: '1', generation: 1, ...meta },
  spec: { rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] },
  ...over,
});

describe('onlyStatusChanged', () => {
  it('ignores a status write (new resourceVersion, managedFields, status)', () => {
    const before = route();
    const after = route(
      { status: { parents: [{ conditions: [{ type: 'Accepted', status: 'True' }] }] } },
      { resourceVersion: '2', managedFields: [{ manager: 'tenantgate-gateway-status' }] },
    );
    expect(onlyStatusChanged(after, before)).toBe(true);
  });

  it('sees a spec change', () => {
    const after = route(
      { spec: { rules: [{ backendRefs: [{ name: 'api', port: 80 }] }] } },
      { resourceVersion: '2' },
    );
    expect(onlyStatusChanged(after, route())).toBe(false);
  });

  it('sees a label or annotation change (no generation bump)', () => {
    expect(onlyStatusChanged(route({}, { labels: { tenant: 'b' } }), route())).toBe(false);
    expect(onlyStatusChanged(route({}, { annotations: { a: 'b' } }), route())).toBe(false);
  });

  it('sees a change in objects without spec (EndpointSlice endpoints)', () => {
    const slice = (ip: string) => ({ metadata: { name: 's' }, endpoints: [{ addresses: [ip] }] });
    expect(onlyStatusChanged(slice('10.0.0.2'), slice('10.0.0.1'))).toBe(false);
  });

  it('treats an add (no previous object) as a change', () => {
    expect(onlyStatusChanged(route(), undefined)).toBe(false);
  });
});
