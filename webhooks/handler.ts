// The AdmissionReview handler, independent of HTTP: a parsed body in, the answer out. Every decision that
// denies, warns or is dry-run goes to the audit trail (file) and, unless the request is a dry run, to a
// Warning Event; metrics count each violation by policy and action. A CREATE that counts against a
// Tenant limit waits for its slot in the tenant's ledger (quota.ts) before it is answered; every other
// review is answered synchronously.
import { componentLogger, type Logger } from '../lib/logger.ts';
import type { PolicyEngine } from '../policies/engine.ts';
import type { AdmissionRequest, Decision, Inventory } from '../policies/types.ts';
import { auditRecord, type AuditSink } from './audit-log.ts';
import { decisionsTotal, reviewsTotal } from './metrics.ts';
import type { QuotaOutcome } from './quota.ts';
import {
  buildResponse,
  describeObject,
  errorResponse,
  parseAdmissionReview,
  type AdmissionReviewResponse,
} from './review.ts';

export interface ViolationEventSink {
  record(request: AdmissionRequest, decisions: Decision[], tenant: string | undefined): void;
}

/** Holds counted CREATEs to the Tenant limits (quota.ts); undefined when the request counts against none. */
export interface AdmissionQuota {
  review(
    request: AdmissionRequest,
    decisions: readonly Decision[],
    inventory: Inventory,
  ): Promise<QuotaOutcome> | undefined;
}

export interface AdmissionHandlerOptions {
  engine: PolicyEngine;
  audit?: AuditSink;
  events?: ViolationEventSink;
  quota?: AdmissionQuota;
  logger?: Logger;
}

export type HandleResult = { status: 200; review: AdmissionReviewResponse } | { status: 400; reason: string };

/**
 * `raw`: the body's JSON text, when the transport has it (the policy engine then reads it as is). A
 * Promise when the audit sink makes the answer wait for a durable write.
 */
export type AdmissionHandler = (body: unknown, raw?: Buffer) => HandleResult | Promise<HandleResult>;

export function createAdmissionHandler(options: AdmissionHandlerOptions): AdmissionHandler {
  const log = options.logger ?? componentLogger('webhook');
  return (body, raw) => {
    const parsed = parseAdmissionReview(body);
    if (!parsed.ok) {
      reviewsTotal.inc({ result: 'invalid' });
      return { status: 400, reason: `malformed AdmissionReview: ${parsed.reason}` };
    }
    const { request } = parsed;
    const { decisions } = options.engine.evaluateAdmission(request, raw && toArrayBuffer(raw));
    const held = options.quota?.review(request, decisions, options.engine.inventory);
    if (!held) return answer(request, decisions);
    return held.then((outcome) => {
      if (outcome.kind === 'decided')
        return answer(request, [...decisions, ...outcome.decisions].sort(byPolicy));
      // not a policy decision but a failure to make one: refused (fail closed), logged, not audited
      reviewsTotal.inc({ result: 'error' });
      log.warn('admission refused: the tenant limit could not be checked', {
        uid: request.uid,
        object: describeObject(request),
        user: request.userInfo.username,
        err: outcome.message,
      });
      return { status: 200, review: errorResponse(request.uid, 503, outcome.message) };
    });
  };

  function answer(request: AdmissionRequest, decisions: Decision[]): HandleResult | Promise<HandleResult> {
    const tenant = tenantOf(request, options.engine.inventory);
    const review = buildResponse({ request, decisions, tenant });
    reviewsTotal.inc({ result: review.response.allowed ? 'allowed' : 'denied' });
    if (decisions.length) {
      for (const d of decisions) decisionsTotal.inc({ policy: d.policy, action: d.action });
      const durable = options.audit?.record(auditRecord(request, decisions, tenant));
      options.events?.record(request, decisions, tenant);
      // debug: the audit trail is the record of every decision; an info line each would double the cost
      log.debug(review.response.allowed ? 'admission allowed with violations' : 'admission denied', {
        uid: request.uid,
        object: describeObject(request),
        operation: request.operation,
        user: request.userInfo.username,
        tenant,
        dryRun: request.dryRun === true,
        policies: decisions.map((d) => `${d.policy}:${d.action}`),
      });
      // nothing is answered before its audit record is durable
      if (durable) return durable.then(() => ({ status: 200 as const, review }));
    }
    return { status: 200, review };
  }
}

/** The engine's order: by policy, then message. */
function byPolicy(a: Decision, b: Decision): number {
  return a.policy.localeCompare(b.policy) || a.message.localeCompare(b.message);
}

/** The tenant a request concerns: the Tenant itself, or the tenant whose namespace holds the object. */
export function tenantOf(request: AdmissionRequest, inventory: Inventory): string | undefined {
  const obj = (request.object ?? request.oldObject) as { metadata?: { name?: string } } | null | undefined;
  const name = request.name || obj?.metadata?.name;
  if (request.kind.group === 'tenantgate.io' && request.kind.kind === 'Tenant') return name;
  if (request.kind.group === '' && request.kind.kind === 'Namespace')
    return name ? inventory.namespace_tenants[name] : undefined;
  return request.namespace ? inventory.namespace_tenants[request.namespace] : undefined;
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
