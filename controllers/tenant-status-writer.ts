// Writes Tenant.status (computed by tenant-status.ts) with server-side apply of the status subresource,
// only when it changed, and records a failed pass in it.
import type { Tenant } from '../api/tenant.ts';
import { isNotFound } from '../kube/client.ts';
import { errorMessage } from '../lib/errors.ts';
import { tenantRef, type Pass, type TenantContext } from './tenant-pass.ts';
import { desiredStatus, statusChanged, type StatusInput } from './tenant-status.ts';

/** Writes status if it changed; true when it wrote. */
export async function writeStatus(ctx: TenantContext, tenant: Tenant, input: StatusInput): Promise<boolean> {
  const current = ctx.informers.tenants.get(tenant.metadata.name) ?? tenant;
  const status = desiredStatus(current, input, new Date());
  if (!statusChanged(current.status, status)) return false;
  try {
    await ctx.writes.applyStatus<Tenant>(tenantRef(tenant), status);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Ready=False with the error, keeping what status said about namespaces and routes. */
export async function reportError(ctx: TenantContext, pass: Pass, err: unknown): Promise<void> {
  try {
    await writeStatus(ctx, pass.tenant, {
      namespaces: pass.tenant.status?.namespaces ?? [],
      routes: pass.tenant.status?.routes ?? 0,
      gatewayProblems: [],
      error: errorMessage(err),
    });
  } catch (statusErr) {
    ctx.log.warn('could not record the failure in status', {
      tenant: pass.tenant.metadata.name,
      error: errorMessage(statusErr),
    });
  }
}
