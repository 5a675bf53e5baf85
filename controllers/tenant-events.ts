// The Events the Tenant controller records on a Tenant, in one catalogue: what `kubectl describe tenant`
// shows a platform team. Normal Events say what a pass changed; Warnings only when they change what
// status says, so that a periodic resync does not repeat them.
import type { Tenant } from '../api/tenant.ts';
import type { EventInput } from '../kube/events.ts';
import { ADOPT_ANNOTATION } from './labels.ts';
import type { Pass, TenantContext } from './tenant-pass.ts';
import type { StatusInput } from './tenant-status.ts';

export const TenantEvents = {
  created: (items: string[]): EventInput => ({
    type: 'Normal',
    reason: 'Created',
    action: 'Create',
    note: `created ${summarize(items)}`,
  }),
  /** catching up with a spec change */
  updated: (items: string[]): EventInput => ({
    type: 'Normal',
    reason: 'Updated',
    action: 'Update',
    note: `updated ${summarize(items)}`,
  }),
  /** someone else edited or deleted what we made */
  repaired: (items: string[]): EventInput => ({
    type: 'Normal',
    reason: 'Repaired',
    action: 'Repair',
    note: `repaired ${summarize(items)} (edited or deleted by someone else)`,
  }),
  adopted: (namespaces: string[]): EventInput => ({
    type: 'Normal',
    reason: 'Adopted',
    action: 'Adopt',
    note: `adopted existing Namespace ${namespaces.join(', ')} (handed over by the ${ADOPT_ANNOTATION} annotation, now removed): labelled, owned and granted like the namespaces it made`,
  }),
  removed: (items: string[]): EventInput => ({
    type: 'Normal',
    reason: 'Removed',
    action: 'Update',
    note: summarize(items),
  }),
  deleting: (policy: string, items: string[]): EventInput => ({
    type: 'Normal',
    reason: 'Deleting',
    action: 'Delete',
    note: `Tenant deleted (namespaceDeletionPolicy ${policy}): ${summarize(items)}`,
  }),
  namespaceConflict: (message: string): EventInput => ({
    type: 'Warning',
    reason: 'NamespaceConflict',
    action: 'Reconcile',
    note: message,
  }),
  gatewayProblem: (problems: string[]): EventInput => ({
    type: 'Warning',
    reason: 'GatewayProblem',
    action: 'Reconcile',
    note: problems.join('; '),
  }),
} as const;

/** The Events and log lines of one pass. */
export function recordPass(ctx: TenantContext, pass: Pass, input: StatusInput, statusWritten: boolean): void {
  const { tenant } = pass;
  const record = (event: EventInput) => ctx.recorder.record(tenant, event);
  if (pass.created.length) record(TenantEvents.created(pass.created));
  if (pass.updated.length)
    record(isSpecChange(tenant) ? TenantEvents.updated(pass.updated) : TenantEvents.repaired(pass.updated));
  if (pass.adopted.length) record(TenantEvents.adopted(pass.adopted));
  if (pass.removed.length) record(TenantEvents.removed(pass.removed));
  if (statusWritten) {
    for (const n of input.namespaces.filter((r) => r.conflict))
      record(TenantEvents.namespaceConflict(n.message ?? ''));
    if (input.gatewayProblems.length) record(TenantEvents.gatewayProblem(input.gatewayProblems));
  }
  for (const ns of pass.adopted) {
    ctx.log.info('adopted a namespace', { tenant: tenant.metadata.name, uid: pass.uid, namespace: ns });
  }
  if (pass.created.length || pass.updated.length || pass.removed.length) {
    ctx.log.info('tenant reconciled', {
      tenant: tenant.metadata.name,
      created: pass.created.length,
      updated: pass.updated.length,
      removed: pass.removed.length,
    });
  }
}

/** A spec change we are catching up with (otherwise an update repairs someone else's edit). */
const isSpecChange = (tenant: Tenant) => tenant.status?.observedGeneration !== tenant.metadata.generation;

/** "Namespace a, Namespace b, RoleBinding a/x" -> at most ~20 items, then "and N more". */
export function summarize(items: string[]): string {
  const shown = items.slice(0, 20).join(', ');
  return items.length > 20 ? `${shown} and ${items.length - 20} more` : shown;
}
