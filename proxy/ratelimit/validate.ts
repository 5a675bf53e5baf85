// Semantic checks on a RateLimitPolicy before it reaches the data path. The CRD schema already enforces
// most of this in a cluster, but --from-files input never went through an API server, so the proxy checks
// again. Each problem names the field and the rule; an invalid policy is not enforced and its status says
// why (reason Invalid).
import { RATE_UNITS } from '../../api/common.ts';
import { policySections, type PolicySection } from '../policy-attachment/sections.ts';
import { checkTargetRefs, isObject, show } from '../policy-attachment/targets.ts';
import { parseCidr } from './cidr.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const HEADER_TOKEN = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/;
const MAX_REQUESTS = 1_000_000_000;

type Problems = string[];

/** Every problem found, as "field: rule (got value)"; empty when the policy is valid. */
export function validateRateLimitPolicy(policy: unknown): string[] {
  const problems: Problems = [];
  const spec = isObject(policy) ? policy.spec : undefined;
  if (!isObject(spec)) return ['spec: must be an object with targetRefs and limits'];
  checkTargetRefs(spec.targetRefs, problems);
  const { sections, problems: form } = rateLimitSections(spec);
  problems.push(...form);
  for (const section of sections) checkLimits(section.body.limits, section.at, problems);
  return problems;
}

/** The defaults and overrides of a RateLimitPolicy spec (policySections with its settings: `limits`). */
export function rateLimitSections(spec: unknown): { sections: PolicySection[]; problems: string[] } {
  return policySections(spec, RATE_LIMIT_FIELDS);
}

export const RATE_LIMIT_FIELDS: readonly string[] = ['limits'];

function checkLimits(limits: unknown, base: string, problems: Problems): void {
  if (!Array.isArray(limits) || limits.length === 0 || limits.length > 16) {
    problems.push(`${base}.limits: must list 1 to 16 limits`);
    return;
  }
  const names = new Set<string>();
  limits.forEach((limit: unknown, i) => {
    const at = `${base}.limits[${i}]`;
    if (!isObject(limit)) return void problems.push(`${at}: must be an object`);
    if (typeof limit.name !== 'string' || !DNS_LABEL.test(limit.name) || limit.name.length > 63) {
      problems.push(
        `${at}.name: must be a DNS label (lower-case letters, digits, '-') (got ${show(limit.name)})`,
      );
    } else if (names.has(limit.name)) {
      problems.push(`${at}.name: ${limit.name} is used by an earlier limit (names must be unique)`);
    } else names.add(limit.name);
    const r = limit.requests;
    if (typeof r !== 'number' || !Number.isInteger(r) || r < 1 || r > MAX_REQUESTS) {
      problems.push(`${at}.requests: must be an integer from 1 to ${MAX_REQUESTS} (got ${show(r)})`);
    }
    if (!RATE_UNITS.includes(limit.unit as never)) {
      problems.push(`${at}.unit: must be one of ${RATE_UNITS.join(', ')} (got ${show(limit.unit)})`);
    }
    checkSelectors(limit.clientSelectors, `${at}.clientSelectors`, problems);
  });
}

function checkSelectors(selectors: unknown, at: string, problems: Problems): void {
  if (selectors === undefined) return;
  if (!Array.isArray(selectors) || selectors.length > 8)
    return void problems.push(`${at}: must be a list of at most 8 selectors`);
  selectors.forEach((s: unknown, i) => {
    const here = `${at}[${i}]`;
    if (!isObject(s) || (s.headers === undefined && s.sourceCIDR === undefined)) {
      return void problems.push(`${here}: must set headers, sourceCIDR or both`);
    }
    if (s.headers !== undefined) checkHeaders(s.headers, `${here}.headers`, problems);
    if (s.sourceCIDR !== undefined) checkCidr(s.sourceCIDR, `${here}.sourceCIDR`, problems);
  });
}

function checkHeaders(headers: unknown, at: string, problems: Problems): void {
  if (!Array.isArray(headers) || headers.length === 0 || headers.length > 16) {
    return void problems.push(`${at}: must list 1 to 16 header matches`);
  }
  headers.forEach((h: unknown, i) => {
    const here = `${at}[${i}]`;
    if (!isObject(h)) return void problems.push(`${here}: must be an object`);
    if (typeof h.name !== 'string' || !HEADER_TOKEN.test(h.name)) {
      problems.push(`${here}.name: must be an HTTP header name (got ${show(h.name)})`);
    }
    if (h.type !== 'Exact' && h.type !== 'Distinct')
      problems.push(`${here}.type: must be Exact or Distinct (got ${show(h.type)})`);
    if (h.type === 'Exact' && typeof h.value !== 'string')
      problems.push(`${here}.value: an Exact header match needs a value`);
    if (h.type === 'Distinct' && h.value !== undefined) {
      problems.push(`${here}.value: must be empty for Distinct (each distinct value gets its own counter)`);
    }
  });
}

function checkCidr(cidr: unknown, at: string, problems: Problems): void {
  if (!isObject(cidr)) return void problems.push(`${at}: must be an object with type and value`);
  if (cidr.type !== 'Exact' && cidr.type !== 'Distinct')
    problems.push(`${at}.type: must be Exact or Distinct (got ${show(cidr.type)})`);
  if (typeof cidr.value !== 'string' || !parseCidr(cidr.value)) {
    problems.push(
      `${at}.value: must be a CIDR such as 10.0.0.0/8 or 2001:db8::/32 (got ${show(cidr.value)})`,
    );
  }
}
