// Our API: the kinds of tenantgate.io/v1alpha1 and the names other tools depend on.
export * from './common.ts';
export * from './tenant.ts';
export * from './ratelimitpolicy.ts';
export * from './accesspolicy.ts';
export { crds, tenantCrd, rateLimitPolicyCrd, accessPolicyCrd } from './crds.ts';
