// AccessPolicy (namespaced): Rego request authorization on the data path, attached like any Gateway API
// policy. `rule` names a data-path entrypoint of a loaded policy bundle; `parameters` are checked against
// that rule's schema at admission (the API server cannot know the rules, so it keeps them free-form).
//
// GEP-713 defaults and overrides: `spec.defaults` (the most specific default governs a route rule; the
// top-level `rule` + `parameters` form means this) and `spec.overrides` (on a Gateway or listener: every
// route under it must also be allowed by it, whatever the routes' own policies say; only from namespaces
// that belong to no tenant). See docs/access-policies.md.
import type { API_VERSION, policyStatus } from './common.ts';
import { targetRefs, type ObjectMeta } from './common.ts';
import { DNS1123_LABEL, freeform, object, string, type Infer } from './schema.ts';

const rule = string({
  minLength: 1,
  maxLength: 63,
  pattern: DNS1123_LABEL,
  description: 'a data-path rule, e.g. allow-cidrs',
});
const parameters = freeform({
  description: "the rule's parameters; checked against the rule's schema at admission",
});

/** What `spec.defaults` and `spec.overrides` hold: one rule and its parameters. */
const section = (description: string) => object({ rule, parameters }, { required: ['rule'], description });

export const accessPolicySpec = object(
  {
    targetRefs,
    rule,
    parameters,
    defaults: section(
      'the rule that governs the targets unless a more specific policy does (same as the top-level rule + parameters)',
    ),
    overrides: section(
      "on a Gateway or listener: a rule every route under it must also pass, whatever the routes' own policies say; only outside tenant namespaces",
    ),
  },
  {
    required: ['targetRefs'],
    'x-kubernetes-validations': [
      {
        rule: '!(has(self.rule) && has(self.defaults))',
        message:
          'spec.rule and spec.defaults are two spellings of the same default rule — set one: move rule and parameters under spec.defaults, or remove spec.defaults',
      },
      {
        rule: '!has(self.parameters) || has(self.rule)',
        message: 'spec.parameters needs spec.rule — set spec.rule, or move parameters under spec.defaults',
      },
      {
        rule: 'has(self.rule) || has(self.defaults) || has(self.overrides)',
        message: 'an AccessPolicy needs a rule — set spec.defaults.rule, spec.overrides.rule or spec.rule',
      },
    ],
  },
);

export type AccessPolicySpec = Infer<typeof accessPolicySpec>;
export type AccessPolicyRule = NonNullable<AccessPolicySpec['defaults']>;

export interface AccessPolicy {
  apiVersion: typeof API_VERSION;
  kind: 'AccessPolicy';
  metadata: ObjectMeta;
  spec: AccessPolicySpec;
  status?: Infer<typeof policyStatus>;
}
