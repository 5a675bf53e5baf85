// Our CRDs and the Gateway API CRDs, installed in a real kube-apiserver: valid objects are stored and read
// back; invalid ones are refused by the API server with a message that names the field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RateLimitPolicy, Tenant } from '../../api/index.ts';
import { createObject, deleteObject, type Named } from '../../kube/apply.ts';
import { KubeApiError, KubeClient } from '../../kube/client.ts';
import { uniqueName } from '../env/names.ts';
import { testKubeConfig } from '../env/test-cluster.ts';

let client: KubeClient;
beforeAll(() => {
  client = new KubeClient({ kubeConfig: testKubeConfig() });
});
afterAll(() => client.close());

function tenant(spec: Partial<Tenant['spec']> = {}): Tenant {
  return {
    apiVersion: 'tenantgate.io/v1alpha1',
    kind: 'Tenant',
    metadata: { name: uniqueName('acme') },
    spec: { namespaces: [{ name: uniqueName('acme-web') }], ...spec },
  };
}

/** The API server's refusal message for creating `obj`, or fails the test if it was accepted. */
async function refusal(obj: Named): Promise<string> {
  try {
    await createObject(client, obj);
  } catch (err) {
    expect(err).toBeInstanceOf(KubeApiError);
    expect((err as KubeApiError).statusCode).toBe(422);
    return JSON.stringify((err as KubeApiError).status);
  }
  throw new Error(`${obj.kind} ${obj.metadata.name} was accepted`);
}

describe('Tenant CRD', () => {
  it('stores a valid Tenant and reads it back, defaulting the deletion policy', async () => {
    const t = tenant({
      owners: [
        { kind: 'Group', name: 'acme-devs' },
        { kind: 'ServiceAccount', name: 'deployer', namespace: 'acme-web' },
      ],
      gateways: [{ name: 'shared', namespace: 'infra', sectionNames: ['http'] }],
      hostnames: ['acme.example.com', '*.acme.example.com'],
      limits: { maxRoutes: 50, rateLimit: { requests: 1000, unit: 'Second' } },
    });
    await createObject(client, t);
    const back = (await client.get<Tenant>(t, { name: t.metadata.name }))!;
    expect(back.spec.hostnames).toEqual(['acme.example.com', '*.acme.example.com']);
    expect(back.spec.limits?.rateLimit).toEqual({ requests: 1000, unit: 'Second' });
    expect(back.spec.namespaceDeletionPolicy).toBe('Retain');
    await deleteObject(client, t);
  });

  it('refuses an unknown rate unit, naming the field', async () => {
    const t = tenant({ limits: { rateLimit: { requests: 10, unit: 'Fortnight' as 'Day' } } });
    const msg = await refusal(t);
    expect(msg).toContain('spec.limits.rateLimit.unit');
    expect(msg).toContain('Unsupported value: \\"Fortnight\\"');
  });

  it('refuses requests: 0, naming the field', async () => {
    const msg = await refusal(tenant({ limits: { rateLimit: { requests: 0, unit: 'Second' } } }));
    expect(msg).toContain('spec.limits.rateLimit.requests');
    expect(msg).toMatch(/should be greater than or equal to 1/);
  });

  it('refuses duplicate namespace names, naming the entry', async () => {
    const ns = uniqueName('dup');
    const msg = await refusal(tenant({ namespaces: [{ name: ns }, { name: ns }] }));
    expect(msg).toContain('spec.namespaces[1]');
    expect(msg).toContain('Duplicate value');
  });

  it('refuses a namespace name that is not a DNS-1123 label', async () => {
    const msg = await refusal(tenant({ namespaces: [{ name: 'Not_A_Label' }] }));
    expect(msg).toContain('spec.namespaces[0].name');
  });

  it('refuses a ServiceAccount owner without a namespace', async () => {
    const msg = await refusal(tenant({ owners: [{ kind: 'ServiceAccount', name: 'deployer' }] }));
    expect(msg).toContain('a ServiceAccount owner needs a namespace');
  });

  it('refuses a Tenant name that cannot be a label value', async () => {
    const t = tenant();
    t.metadata.name = `a.${uniqueName('dotted')}`;
    expect(await refusal(t)).toContain('metadata.name must be a DNS-1123 label');
  });
});

describe('RateLimitPolicy CRD', () => {
  const policy = (spec: Partial<RateLimitPolicy['spec']>): RateLimitPolicy => ({
    apiVersion: 'tenantgate.io/v1alpha1',
    kind: 'RateLimitPolicy',
    metadata: { name: uniqueName('rl'), namespace: 'default' },
    spec: {
      targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: 'api' }],
      limits: [
        {
          name: 'per-ip',
          requests: 20,
          unit: 'Second',
          clientSelectors: [{ sourceCIDR: { type: 'Distinct', value: '0.0.0.0/0' } }],
        },
      ],
      ...spec,
    },
  });

  it('stores a valid policy', async () => {
    const p = policy({});
    const created = await createObject(client, p);
    expect(created.metadata?.uid).toBeTruthy();
    await deleteObject(client, p);
  });

  it('refuses requests: 0 and an unknown unit, naming both fields', async () => {
    const msg = await refusal(policy({ limits: [{ name: 'a', requests: 0, unit: 'Week' as 'Day' }] }));
    expect(msg).toContain('spec.limits[0].requests');
    expect(msg).toContain('spec.limits[0].unit');
  });

  it('refuses a policy without targetRefs', async () => {
    expect(await refusal(policy({ targetRefs: [] }))).toContain('spec.targetRefs');
  });

  it('refuses a source CIDR that is not a CIDR', async () => {
    const msg = await refusal(
      policy({
        limits: [
          {
            name: 'a',
            requests: 1,
            unit: 'Second',
            clientSelectors: [{ sourceCIDR: { type: 'Exact', value: 'banana' } }],
          },
        ],
      }),
    );
    expect(msg).toContain('value must be a CIDR');
  });
});

describe('Gateway API CRDs', () => {
  it('serves Gateways and HTTPRoutes', async () => {
    const ns = 'default';
    const gw: Named & { spec: unknown } = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: uniqueName('gw'), namespace: ns },
      spec: { gatewayClassName: 'tenantgate', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
    };
    const route: Named & { spec: unknown } = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: uniqueName('route'), namespace: ns },
      spec: {
        parentRefs: [{ name: gw.metadata.name }],
        rules: [{ backendRefs: [{ name: 'echo', port: 80 }] }],
      },
    };
    await createObject(client, gw);
    await createObject(client, route);
    const back = await client.get<Named & { spec: { rules: { matches?: unknown[] }[] } }>(
      route,
      route.metadata,
    );
    // the API server applied the Gateway API defaults: a rule without matches matches PathPrefix /
    expect(back!.spec.rules[0]!.matches).toEqual([{ path: { type: 'PathPrefix', value: '/' } }]);
    await deleteObject(client, route);
    await deleteObject(client, gw);
  });
});
