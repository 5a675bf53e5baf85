import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { renderCrdYaml } from './crd-yaml.ts';
import { crdFileName, crds, tenantCrd } from './crds.ts';
import type { JSONSchemaProps } from './schema.ts';
import type { RateLimitPolicySpec } from './ratelimitpolicy.ts';
import type { TenantSpec } from './tenant.ts';

describe('CRDs', () => {
  it.each(crds.map((c) => [c.metadata.name, c] as const))(
    'config/crd YAML of %s is generated from api/',
    (_name, crd) => {
      const committed = readFileSync(
        join(import.meta.dirname, '..', 'config', 'crd', crdFileName(crd)),
        'utf8',
      );
      expect(committed, 'config/crd is stale: run `make generate`').toBe(renderCrdYaml(crd));
    },
  );

  it('marks policy CRDs as inherited Gateway API policies', () => {
    const policies = crds.filter((c) => c.metadata.name !== tenantCrd.metadata.name);
    expect(policies.map((c) => c.metadata.labels?.['gateway.networking.k8s.io/policy'])).toEqual([
      'Inherited',
      'Inherited',
    ]);
  });

  it('keeps the Tenant schema and the TenantSpec type in step', () => {
    const version = (tenantCrd.spec.versions as { schema: { openAPIV3Schema: JSONSchemaProps } }[])[0]!;
    const spec = version.schema.openAPIV3Schema.properties!.spec!;
    const sample: Required<TenantSpec> = {
      owners: [{ kind: 'Group', name: 'acme-devs' }],
      namespaces: [{ name: 'acme-web', labels: { team: 'web' } }],
      gateways: [{ name: 'shared', namespace: 'infra', sectionNames: ['http'] }],
      hostnames: ['acme.example.com'],
      limits: { maxRoutes: 50, rateLimit: { requests: 1000, unit: 'Second' } },
      additionalRoleBindings: [
        { clusterRoleName: 'view', subjects: [{ kind: 'Group', name: 'acme-auditors' }] },
      ],
      namespaceDeletionPolicy: 'Retain',
    };
    // every field of the type is a property of the schema, and the reverse
    expect(Object.keys(spec.properties!).sort()).toEqual(Object.keys(sample).sort());
    expect(spec.required).toEqual(['namespaces']);
  });

  it('infers enums and optionality from the schema', () => {
    expectTypeOf<NonNullable<RateLimitPolicySpec['limits']>[number]['unit']>().toEqualTypeOf<
      'Second' | 'Minute' | 'Hour' | 'Day'
    >();
    expectTypeOf<TenantSpec['namespaces'][number]['name']>().toEqualTypeOf<string>();
    expectTypeOf<TenantSpec['limits']>().toEqualTypeOf<
      | { maxRoutes?: number; rateLimit?: { requests: number; unit: 'Second' | 'Minute' | 'Hour' | 'Day' } }
      | undefined
    >();
  });
});
