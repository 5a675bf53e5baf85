// AccessPolicy on the data path: Rego request authorization evaluated by the shared policy engine. The
// proxy's wiring uses compileAttachedPolicies (proxy/attached-policies.ts); these are the parts.
export { compileAccessPolicies } from './attach.ts';
export type { AccessCompileOptions, AccessPolicyIndex, CompiledAccessPolicies } from './attach.ts';
export { computeAccessPolicyStatus, ACCESS_POLICY_AFFECTED } from './status.ts';
export type { AccessStatusInputs, AccessStatusResult } from './status.ts';
export { AccessRequestPolicy, InvalidAccessPolicy } from './policy.ts';
export type { AccessRequestPolicyOptions } from './policy.ts';
export type { AccessEngine } from './engine.ts';
export { API_KEY_RULE, matchApiKey, resolveApiKeys } from './api-key.ts';
export type { ApiKeyConfig } from './api-key.ts';
export { isSensitiveHeader, redactHeaders, REDACTED } from './redact.ts';
export { prepareAccessPolicy } from './validate.ts';
export { admissionParameterCheck } from './parameters.ts';
export type { ParameterCheck } from './parameters.ts';
