// Who may hand a namespace to a Tenant. The annotation tenantgate.io/adopt-by: <tenant> on an existing
// Namespace makes the Tenant adopt it — its owners get rights in it — so it is admitted only from someone
// who could already update that Namespace.
//
// Why a SubjectAccessReview and not a Rego policy: "could update this namespace" is the cluster's
// authorizer's answer (RBAC, and any other authorizer the cluster runs, groups and impersonation
// included), which the policies cannot see; copying RBAC into their data would be a second, stale version
// of it. The API server already checked the request's own verb; the review matters where that verb is
// weaker than `update namespaces`: CREATE (a namespace creator need not be allowed to update namespaces),
// and the status and finalize subresources, which write metadata too. Only requests that set or change
// the annotation get here (the registration's matchConditions), so the review costs one API call per
// hand-over, never one per ordinary write.
//
// Admitted hand-overs are recorded in the audit trail (action `allow`, policy `namespace-adoption`: who
// handed which namespace to which Tenant); refused ones like any denial, with a Warning Event.
import { ADOPT_ANNOTATION } from '../api/common.ts';
import { createObject } from '../kube/apply.ts';
import type { KubeClient } from '../kube/client.ts';
import { KINDS } from '../kube/resources.ts';
import { errorMessage } from '../lib/errors.ts';
import { componentLogger, type Logger } from '../lib/logger.ts';
import type { AdmissionRequest, Decision } from '../policies/types.ts';
import { auditRecord, type AuditSink } from './audit-log.ts';
import type { AdmissionHandler, HandleResult, ViolationEventSink } from './handler.ts';
import { decisionsTotal } from './metrics.ts';
import { buildResponse, parseAdmissionReview } from './review.ts';

export const ADOPTION_POLICY = 'namespace-adoption';

export interface HandOver {
  namespace: string;
  tenant: string;
}

type Meta = { metadata?: { name?: string; annotations?: Record<string, string> } };

/** The hand-over a request makes: a Namespace write that sets or changes the adopt-by annotation. */
export function handOverIn(request: AdmissionRequest): HandOver | undefined {
  if (request.kind.group !== '' || request.kind.kind !== 'Namespace') return undefined;
  if (request.operation !== 'CREATE' && request.operation !== 'UPDATE') return undefined;
  const tenant = (request.object as Meta | null | undefined)?.metadata?.annotations?.[ADOPT_ANNOTATION];
  if (!tenant) return undefined;
  const before = (request.oldObject as Meta | null | undefined)?.metadata?.annotations?.[ADOPT_ANNOTATION];
  if (before === tenant) return undefined;
  const namespace = request.name || (request.object as Meta).metadata?.name || '';
  return { namespace, tenant };
}

interface SubjectAccessReview {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Record<string, unknown>;
  status?: { allowed?: boolean; denied?: boolean; reason?: string; evaluationError?: string };
}

/** Asks the API server's authorizer whether the requester may update the namespace. */
export async function mayUpdateNamespace(
  client: KubeClient,
  request: AdmissionRequest,
  namespace: string,
): Promise<boolean> {
  const { username, uid, groups, extra } = request.userInfo;
  const review = await createObject<SubjectAccessReview>(client, {
    apiVersion: KINDS.SubjectAccessReview.apiVersion,
    kind: KINDS.SubjectAccessReview.kind,
    // the API ignores the name; our client's types want one
    metadata: { name: '' },
    spec: {
      user: username,
      ...(uid ? { uid } : {}),
      ...(groups ? { groups } : {}),
      ...(extra ? { extra } : {}),
      resourceAttributes: {
        verb: 'update',
        group: '',
        version: 'v1',
        resource: 'namespaces',
        name: namespace,
      },
    },
  } as SubjectAccessReview);
  return review.status?.allowed === true;
}

export interface AdoptionGateOptions {
  /** the policy handler, for everything else and for hand-overs that pass */
  handler: AdmissionHandler;
  client: KubeClient;
  audit?: AuditSink;
  events?: ViolationEventSink;
  logger?: Logger;
}

export function createAdoptionGate(options: AdoptionGateOptions): AdmissionHandler {
  const log = options.logger ?? componentLogger('webhook');
  // everything but a hand-over goes straight to the policy handler, synchronously when it can answer so
  return (body, raw) => {
    const parsed = quickNamespaceCheck(body) ? parseAdmissionReview(body) : undefined;
    const handOver = parsed?.ok ? handOverIn(parsed.request) : undefined;
    if (!parsed?.ok || !handOver) return options.handler(body, raw);
    return gateHandOver(parsed.request, handOver, body, raw);
  };

  async function gateHandOver(
    request: AdmissionRequest,
    handOver: HandOver,
    body: unknown,
    raw: Buffer | undefined,
  ): Promise<HandleResult> {
    let allowed: boolean;
    try {
      allowed = await mayUpdateNamespace(options.client, request, handOver.namespace);
    } catch (err) {
      // fail closed, as the registration does: a hand-over nobody could check does not happen
      log.error('could not check who hands a namespace over', {
        uid: request.uid,
        namespace: handOver.namespace,
        error: errorMessage(err),
      });
      return refuse(
        request,
        handOver,
        `could not check whether ${request.userInfo.username ?? '?'} may update namespace '${handOver.namespace}' (${errorMessage(err)}); try again`,
        options,
      );
    }
    if (!allowed) {
      return refuse(
        request,
        handOver,
        `metadata.annotations['${ADOPT_ANNOTATION}']: only someone who may update namespace '${handOver.namespace}' can hand it to a Tenant, and ${request.userInfo.username ?? '?'} may not — ask a platform admin to annotate it`,
        options,
      );
    }
    const result = await options.handler(body, raw);
    if (result.status === 200 && result.review.response.allowed) {
      // the hand-over's own record is durable before the answer leaves, as every audited decision is
      await options.audit?.record({
        ...auditRecord(request, [], handOver.tenant),
        action: 'allow',
        violations: [
          {
            policy: ADOPTION_POLICY,
            action: 'allow',
            bundle: 'builtin',
            message: `namespace '${handOver.namespace}' handed to Tenant '${handOver.tenant}' by ${request.userInfo.username ?? '?'}; the Tenant adopts it when it lists it`,
          },
        ],
      });
      log.info('namespace handed over', {
        uid: request.uid,
        namespace: handOver.namespace,
        tenant: handOver.tenant,
        user: request.userInfo.username,
        dryRun: request.dryRun === true,
      });
    }
    return result;
  }
}

async function refuse(
  request: AdmissionRequest,
  handOver: HandOver,
  message: string,
  options: AdoptionGateOptions,
): Promise<HandleResult> {
  const decisions: Decision[] = [{ policy: ADOPTION_POLICY, action: 'deny', bundle: 'builtin', message }];
  decisionsTotal.inc({ policy: ADOPTION_POLICY, action: 'deny' });
  await options.audit?.record(auditRecord(request, decisions, handOver.tenant));
  options.events?.record(request, decisions, handOver.tenant);
  return { status: 200, review: buildResponse({ request, decisions, tenant: handOver.tenant }) };
}

/** Cheap look before a full parse: most reviews are not about Namespaces. */
function quickNamespaceCheck(body: unknown): boolean {
  const kind = (body as { request?: { kind?: { group?: unknown; kind?: unknown } } } | null)?.request?.kind;
  return kind?.group === '' && kind.kind === 'Namespace';
}
