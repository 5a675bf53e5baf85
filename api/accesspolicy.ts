// AccessPolicy (namespaced): Rego request authorization on the data path, attached like any Gateway API
// policy. `rule` names a data-path entrypoint of a loaded policy bundle; `parameters` are checked against
// that rule's schema at admission (the API server cannot know the rules, so it keeps them free-form).
import type { API_VERSION, policyStatus } from './common.ts';
import { targetRefs, type ObjectMeta } from './common.ts';
import { DNS1123_LABEL, freeform, object, string, type Infer } from './schema.ts';

export const accessPolicySpec = object(
  {
    targetRefs,
    rule: string({
      minLength: 1,
      maxLength: 63,
      pattern: DNS1123_LABEL,
      description: 'a data-path rule, e.g. allow-cidrs',
    }),
    parameters: freeform({
      description: "the rule's parameters; checked against the rule's schema at admission",
    }),
  },
  { required: ['targetRefs', 'rule'] },
);

export type AccessPolicySpec = Infer<typeof accessPolicySpec>;

export interface AccessPolicy {
  apiVersion: typeof API_VERSION;
  kind: 'AccessPolicy';
  metadata: ObjectMeta;
  spec: AccessPolicySpec;
  status?: Infer<typeof policyStatus>;
}
