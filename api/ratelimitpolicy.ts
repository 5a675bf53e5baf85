// RateLimitPolicy (namespaced): Gateway API policy attachment of request-rate limits.
import type { API_VERSION, policyStatus } from './common.ts';
import { rateUnit, targetRefs, type ObjectMeta } from './common.ts';
import { array, DNS1123_LABEL, integer, object, string, stringEnum, type Infer } from './schema.ts';

const matchType = stringEnum(['Exact', 'Distinct'], {
  description: 'Exact: only requests with this value count; Distinct: one counter per distinct value',
});

const headerSelector = object(
  {
    name: string({ minLength: 1, maxLength: 256, pattern: "^[A-Za-z0-9!#$%&'*+\\-.^_`|~]+$" }),
    type: matchType,
    value: string({ maxLength: 4096 }),
  },
  {
    required: ['name', 'type'],
    'x-kubernetes-validations': [
      { rule: "self.type != 'Exact' || has(self.value)", message: 'an Exact header selector needs a value' },
    ],
  },
);

const sourceCIDRSelector = object(
  { type: matchType, value: string({ minLength: 1, maxLength: 64, description: 'a CIDR, e.g. 10.0.0.0/8' }) },
  {
    required: ['type', 'value'],
    'x-kubernetes-validations': [
      { rule: 'isCIDR(self.value)', message: 'value must be a CIDR such as 10.0.0.0/8' },
    ],
  },
);

export const clientSelector = object(
  {
    headers: array(headerSelector, { maxItems: 16 }),
    sourceCIDR: sourceCIDRSelector,
  },
  { description: 'all of its parts must match for a limit to apply' },
);

export const rateLimit = object(
  {
    name: string({ minLength: 1, maxLength: 63, pattern: DNS1123_LABEL }),
    requests: integer({ minimum: 1, maximum: 1_000_000_000, description: 'requests allowed per unit; > 0' }),
    unit: rateUnit,
    clientSelectors: array(clientSelector, { maxItems: 8 }),
  },
  { required: ['name', 'requests', 'unit'] },
);

const limits = array(rateLimit, {
  minItems: 1,
  maxItems: 16,
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['name'],
});

/** What `spec.defaults` and `spec.overrides` hold: the limits. */
const section = (description: string) => object({ limits }, { required: ['limits'], description });

// GEP-713 defaults and overrides: `spec.defaults` (the most specific default governs a route rule; the
// top-level `limits` form means this) and `spec.overrides` (on a Gateway or listener: these limits count for
// every route under it in addition to the route's own; only from namespaces that belong to no tenant).
// See docs/rate-limits.md.
export const rateLimitPolicySpec = object(
  {
    targetRefs,
    limits,
    defaults: section(
      'limits that govern the targets unless a more specific policy does (same as the top-level limits)',
    ),
    overrides: section(
      'on a Gateway or listener: limits every route under it obeys in addition to its own; only outside tenant namespaces',
    ),
  },
  {
    required: ['targetRefs'],
    'x-kubernetes-validations': [
      {
        rule: '!(has(self.limits) && has(self.defaults))',
        message:
          'spec.limits and spec.defaults are two spellings of the same default limits — set one: move limits under spec.defaults, or remove spec.defaults',
      },
      {
        rule: 'has(self.limits) || has(self.defaults) || has(self.overrides)',
        message:
          'a RateLimitPolicy needs limits — set spec.defaults.limits, spec.overrides.limits or spec.limits',
      },
    ],
  },
);

export type RateLimitPolicySpec = Infer<typeof rateLimitPolicySpec>;
export type RateLimit = Infer<typeof rateLimit>;
export type RateLimitSection = NonNullable<RateLimitPolicySpec['defaults']>;
export type ClientSelector = Infer<typeof clientSelector>;

export interface RateLimitPolicy {
  apiVersion: typeof API_VERSION;
  kind: 'RateLimitPolicy';
  metadata: ObjectMeta;
  spec: RateLimitPolicySpec;
  status?: Infer<typeof policyStatus>;
}
