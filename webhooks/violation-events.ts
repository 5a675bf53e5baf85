// Warning Events (reason PolicyViolation) for refused, warned and dry-run changes, where the people
// concerned look: in the object's namespace (a tenant's namespace), or on the Tenant for Tenant changes.
// Dry-run requests get none: they changed nothing, and the audit file records them.
import type { EventRecorder } from '../kube/events.ts';
import type { KubeObject } from '../kube/types.ts';
import type { AdmissionRequest, Decision } from '../policies/types.ts';
import type { ViolationEventSink } from './handler.ts';
import { describeObject, formatViolation, strongestAction } from './review.ts';

export const POLICY_VIOLATION_REASON = 'PolicyViolation';

const ACTIONS = { deny: 'Deny', warn: 'Warn', dryrun: 'DryRun' } as const;

export class ViolationEvents implements ViolationEventSink {
  readonly #recorder: EventRecorder;

  constructor(recorder: EventRecorder) {
    this.#recorder = recorder;
  }

  record(request: AdmissionRequest, decisions: Decision[], _tenant: string | undefined): void {
    if (request.dryRun || decisions.length === 0) return;
    const action = strongestAction(decisions);
    const verdict =
      action === 'deny'
        ? 'refused'
        : action === 'warn'
          ? 'accepted with warnings'
          : 'accepted (dry-run policies)';
    const note = `${request.userInfo.username ?? 'unknown user'}: ${request.operation} ${describeObject(request)} ${verdict}: ${decisions
      .map(formatViolation)
      .join('; ')}`;
    this.#recorder.record(regardingOf(request), {
      type: 'Warning',
      reason: POLICY_VIOLATION_REASON,
      action: ACTIONS[action],
      note,
    });
  }
}

/** The object the Event is about. A Namespace's Events go into that namespace, where its tenant looks. */
export function regardingOf(request: AdmissionRequest): KubeObject {
  const obj = (request.object ?? request.oldObject ?? {}) as KubeObject;
  const name = request.name || obj.metadata?.name || obj.metadata?.generateName || '';
  const apiVersion = request.kind.group
    ? `${request.kind.group}/${request.kind.version}`
    : request.kind.version;
  const isNamespace = request.kind.group === '' && request.kind.kind === 'Namespace';
  const namespace = isNamespace ? name : request.namespace || undefined;
  return {
    apiVersion,
    kind: request.kind.kind,
    metadata: {
      name,
      ...(namespace ? { namespace } : {}),
      ...(obj.metadata?.uid ? { uid: obj.metadata.uid } : {}),
    },
  };
}
