// admission.k8s.io/v1 AdmissionReview: checking what the API server sent, and building the answer.
// The policy engine's decisions become `allowed`, a `status` whose message lists every refusal as
// "[policy] what is wrong — how to fix it", `warnings` for warn-mode violations, and `auditAnnotations`
// (recorded by the API server's audit log as validate.tenantgate.io/<key>).
import type { AdmissionRequest, Decision } from '../policies/types.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

export type ParsedReview = { ok: true; request: AdmissionRequest } | { ok: false; reason: string };

const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

/** Checks the shape of an AdmissionReview body; the reason names the first field that is wrong. */
export function parseAdmissionReview(body: unknown): ParsedReview {
  if (!isObject(body)) return { ok: false, reason: 'the body is not a JSON object' };
  if (body.apiVersion !== ADMISSION_API_VERSION) {
    return {
      ok: false,
      reason: `apiVersion is ${JSON.stringify(body.apiVersion)}, expected "${ADMISSION_API_VERSION}"`,
    };
  }
  if (body.kind !== 'AdmissionReview')
    return { ok: false, reason: `kind is ${JSON.stringify(body.kind)}, expected "AdmissionReview"` };
  const r = body.request;
  if (!isObject(r)) return { ok: false, reason: 'request is missing or not an object' };
  if (typeof r.uid !== 'string' || !r.uid)
    return { ok: false, reason: 'request.uid is missing or not a string' };
  const kind = r.kind;
  if (
    !isObject(kind) ||
    typeof kind.group !== 'string' ||
    typeof kind.version !== 'string' ||
    typeof kind.kind !== 'string'
  ) {
    return { ok: false, reason: 'request.kind must be {group, version, kind} strings' };
  }
  if (typeof r.operation !== 'string' || !OPERATIONS.includes(r.operation)) {
    return {
      ok: false,
      reason: `request.operation is ${JSON.stringify(r.operation)}, expected one of ${OPERATIONS.join(', ')}`,
    };
  }
  if (!isObject(r.userInfo)) return { ok: false, reason: 'request.userInfo is missing or not an object' };
  for (const field of ['object', 'oldObject'] as const) {
    if (r[field] !== undefined && r[field] !== null && !isObject(r[field])) {
      return { ok: false, reason: `request.${field} must be an object or null` };
    }
  }
  if (r.operation !== 'DELETE' && !isObject(r.object))
    return { ok: false, reason: `request.object is required for ${r.operation}` };
  if (r.namespace !== undefined && typeof r.namespace !== 'string')
    return { ok: false, reason: 'request.namespace must be a string' };
  if (r.name !== undefined && typeof r.name !== 'string')
    return { ok: false, reason: 'request.name must be a string' };
  return { ok: true, request: r as unknown as AdmissionRequest };
}

/** "HTTPRoute acme-web/shop" */
export function describeObject(request: AdmissionRequest): string {
  const meta = (request.object ?? request.oldObject ?? {}) as {
    metadata?: { name?: string; generateName?: string };
  };
  const name =
    request.name ||
    meta.metadata?.name ||
    (meta.metadata?.generateName ? `${meta.metadata.generateName}*` : '(unnamed)');
  return `${request.kind.kind} ${request.namespace ? `${request.namespace}/` : ''}${name}`;
}

export function formatViolation(d: Pick<Decision, 'policy' | 'message'>): string {
  return `[${d.policy}] ${d.message}`;
}

export interface ResponseInput {
  request: AdmissionRequest;
  decisions: Decision[];
  tenant?: string;
}

export function buildResponse({ request, decisions, tenant }: ResponseInput): AdmissionReviewResponse {
  const denials = decisions.filter((d) => d.action === 'deny');
  const warnings = decisions.filter((d) => d.action === 'warn').map(formatViolation);
  const response: AdmissionResponse = { uid: request.uid, allowed: denials.length === 0 };
  if (denials.length) {
    response.status = {
      code: 403,
      reason: 'Forbidden',
      message: `${describeObject(request)} is refused by tenantgate policies:\n${denials.map(formatViolation).join('\n')}`,
    };
  }
  if (warnings.length) response.warnings = warnings;
  const annotations: Record<string, string> = {};
  if (tenant) annotations.tenant = tenant;
  if (decisions.length) {
    annotations.decision = strongestAction(decisions);
    annotations.policies = [...new Set(decisions.map((d) => d.policy))].join(',');
  }
  if (Object.keys(annotations).length) response.auditAnnotations = annotations;
  return { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response };
}

/** A refusal that is not a policy decision (deadline, internal error): the change is not let through. */
export function errorResponse(uid: string, code: number, message: string): AdmissionReviewResponse {
  return {
    apiVersion: ADMISSION_API_VERSION,
    kind: 'AdmissionReview',
    response: { uid, allowed: false, status: { code, message } },
  };
}

export function strongestAction(decisions: Decision[]): Decision['action'] {
  if (decisions.some((d) => d.action === 'deny')) return 'deny';
  if (decisions.some((d) => d.action === 'warn')) return 'warn';
  return 'dryrun';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
