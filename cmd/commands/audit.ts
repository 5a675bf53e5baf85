// `tenantgate audit`: the refused, warned and dry-run changes, from the cluster's audit store through the
// audit query API with the user's kubeconfig (default), or from a JSON-lines audit log (--file).
import { parseArgs } from 'node:util';
import {
  auditFiles,
  defaultAuditLogPath,
  readAuditLog,
  type AuditFilter,
  type AuditRecord,
} from '../../webhooks/audit-log.ts';
import type { AuditApiClient } from '../../webhooks/audit/api-client.ts';
import { parseTime, type AuditQuery, type StoredAuditRecord } from '../../webhooks/audit/store.ts';
import { ENFORCEMENT_ACTIONS, type EnforcementAction } from '../../policies/types.ts';

const usage = `usage: tenantgate audit [options]

Lists the changes the admission webhook refused (deny), warned about (warn) or let through while
recording them (dryrun), oldest first. By default it asks the cluster's audit API with your kubeconfig
(what you may read is what RBAC grants: ClusterRole tenantgate:auditor cluster-wide, or by RoleBinding in
a tenant namespace); --file reads a JSON-lines audit log instead.

options:
  --tenant NAME      only changes concerning this tenant
  --namespace NAME   only changes in this namespace
  --user NAME        only changes by this user (as the API server named them)
  --policy NAME      only changes that violated this policy
  --action A         deny, warn or dryrun
  --kind KIND        only changes to this kind (HTTPRoute, Tenant, ...)
  --since WHEN       a duration back from now (90s, 15m, 1h, 2d) or a time (2026-01-02T15:04:05Z)
  --until WHEN       the same, the end of the range
  --limit N          at most the N newest records (default 500)
  -o, --output FMT   table (default) or json (the full records, objects included)
  --watch            keep running and print new records as they are stored (streamed by the API;
                     reconnects where it left off when the connection drops)
  --as USER          impersonate this user (as kubectl --as; you need the impersonate verb)
  --as-group GROUP   impersonate this group too (repeatable)
  --kubeconfig FILE  kubeconfig (default $KUBECONFIG, ~/.kube/config)
  --context NAME     kubeconfig context
  --server URL       the audit API (default: ConfigMap tenantgate-audit in the operator namespace)
  --file PATH        offline: read this audit log (default with --file '': $TENANTGATE_AUDIT_LOG, the
                     'tenantgate local' log .tenantgate/local/audit/admission.jsonl if present, else
                     .tenantgate/audit/admission.jsonl)
  -h, --help
`;

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        tenant: { type: 'string' },
        namespace: { type: 'string' },
        user: { type: 'string' },
        policy: { type: 'string' },
        action: { type: 'string' },
        kind: { type: 'string' },
        since: { type: 'string' },
        until: { type: 'string' },
        limit: { type: 'string', default: '500' },
        output: { type: 'string', short: 'o', default: 'table' },
        watch: { type: 'boolean', short: 'w', default: false },
        as: { type: 'string' },
        'as-group': { type: 'string', multiple: true },
        kubeconfig: { type: 'string' },
        context: { type: 'string' },
        server: { type: 'string' },
        file: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    return fail(`${(err as Error).message}\n\n${usage}`, 2);
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (values.output !== 'table' && values.output !== 'json')
    return fail(`-o must be table or json, not '${values.output}'`, 2);
  const now = new Date();
  const query: AuditQuery = {};
  for (const name of ['tenant', 'namespace', 'user', 'policy', 'kind'] as const) {
    if (values[name]) query[name] = values[name];
  }
  if (values.action) {
    if (!(ENFORCEMENT_ACTIONS as readonly string[]).includes(values.action))
      return fail(`--action must be one of ${ENFORCEMENT_ACTIONS.join(', ')}, not '${values.action}'`, 2);
    query.action = values.action as EnforcementAction;
  }
  for (const name of ['since', 'until'] as const) {
    const v = values[name];
    if (!v) continue;
    const t = parseTime(v, now);
    if (!t)
      return fail(
        `--${name} '${v}' is neither a duration (15m, 1h, 2d) nor a time (2026-01-02T15:04:05Z)`,
        2,
      );
    query[name] = t;
  }
  if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1)
    return fail(`--limit '${values.limit}' must be a whole number >= 1`, 2);
  const limit = Number(values.limit);
  const json = values.output === 'json';

  if (values.file !== undefined || process.env.TENANTGATE_AUDIT_LOG) {
    if (values.watch || values.as) return fail('--watch and --as need the cluster; drop --file', 2);
    return offline(values.file || defaultAuditLogPath(), query, json);
  }

  // loaded only for the cluster: the offline --file path stays light
  const [{ AuditApiClient }, { loadKubeConfig, operatorNamespace }] = await Promise.all([
    import('../../webhooks/audit/api-client.ts'),
    import('../../kube/config.ts'),
  ]);
  const client = await AuditApiClient.connect({
    kubeConfig: loadKubeConfig({
      ...(values.kubeconfig ? { path: values.kubeconfig } : {}),
      ...(values.context ? { context: values.context } : {}),
    }),
    namespace: operatorNamespace(),
    ...(values.server ? { server: values.server } : {}),
    ...(values.as ? { impersonate: { user: values.as, groups: values['as-group'] ?? [] } } : {}),
  });
  try {
    const { records, latestId } = await newest(client, query, limit);
    if (!values.watch) {
      process.stdout.write(
        json ? JSON.stringify(records, null, 2) + '\n' : renderTable(records, query.policy),
      );
      return 0;
    }
    let header = !json;
    const print = (batch: StoredAuditRecord[]) => {
      if (json) for (const r of batch) process.stdout.write(JSON.stringify(r) + '\n');
      else if (batch.length) {
        const table = renderTable(batch, query.policy).split('\n');
        process.stdout.write((header ? table : table.slice(1)).join('\n'));
        header = false;
      }
    };
    print(records);
    const stop = new AbortController();
    process.once('SIGINT', () => stop.abort());
    process.once('SIGTERM', () => stop.abort());
    await watch(client, query, latestId, records, print, stop.signal);
    return 0;
  } finally {
    await client.close();
  }
}

/**
 * Streams what is stored after `latestId` (the list's cursor: nothing stored since the list is missed),
 * skipping records the list showed already, and reconnects from the last cursor when the stream ends or
 * breaks, until `signal` aborts. A refusal by the API (401, 403, 400) ends it with that error.
 */
async function watch(
  client: AuditApiClient,
  query: AuditQuery,
  latestId: number,
  listed: StoredAuditRecord[],
  print: (batch: StoredAuditRecord[]) => void,
  signal: AbortSignal,
): Promise<void> {
  const { Backoff, sleep } = await import('../../lib/async.ts');
  const { KubeApiError } = await import('../../kube/client.ts');
  let cursor = latestId;
  // the list may show records newer than its cursor (stored while it was read): shown once only
  const shown = new Set(listed.filter((r) => r.id > cursor).map((r) => r.id));
  const backoff = new Backoff({ initialMs: 500, maxMs: 30_000 });
  while (!signal.aborted) {
    try {
      for await (const event of client.watch({ ...query, afterId: cursor }, signal)) {
        backoff.reset();
        if (event.type === 'ADDED') {
          if (!shown.has(event.object.id)) print([event.object]);
          cursor = Math.max(cursor, event.object.id);
        } else cursor = Math.max(cursor, event.afterId);
        for (const id of shown) if (id <= cursor) shown.delete(id);
      }
      // the server ended the stream (its timeout, a shutdown): resume where it left off
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof KubeApiError && err.statusCode >= 400 && err.statusCode < 500) throw err;
      process.stderr.write(
        `tenantgate audit: the watch broke (${(err as Error).message}); resuming after record ${cursor}\n`,
      );
    }
    await sleep(backoff.next(), signal);
  }
}

/** The `limit` newest matching records, oldest first. */
async function newest(
  client: AuditApiClient,
  query: AuditQuery,
  limit: number,
): Promise<{ records: StoredAuditRecord[]; latestId: number }> {
  const out: StoredAuditRecord[] = [];
  let cont: string | undefined;
  let latestId: number | undefined;
  do {
    const page = await client.records({
      ...query,
      limit: Math.min(1000, limit - out.length),
      ...(cont ? { continue: cont } : {}),
    });
    latestId ??= page.latestId; // the first page's: a later page's could skip what was stored between
    out.push(...page.items);
    cont = page.continue;
  } while (cont && out.length < limit);
  return { records: out.reverse(), latestId: latestId ?? 0 };
}

async function offline(path: string, query: AuditQuery, json: boolean): Promise<number> {
  if (auditFiles(path).length === 0)
    return fail(`no audit log at ${path} (set --file or $TENANTGATE_AUDIT_LOG)`, 1);
  const filter: AuditFilter = {
    ...(query.tenant ? { tenant: query.tenant } : {}),
    ...(query.user ? { user: query.user } : {}),
    ...(query.policy ? { policy: query.policy } : {}),
    ...(query.since ? { since: query.since } : {}),
  };
  const records = (await readAuditLog(path, filter)).filter(
    (r) =>
      (query.namespace === undefined || r.namespace === query.namespace) &&
      (query.action === undefined || r.action === query.action) &&
      (query.kind === undefined || r.kind === query.kind) &&
      (query.until === undefined || new Date(r.time) < query.until),
  );
  process.stdout.write(json ? JSON.stringify(records, null, 2) + '\n' : renderTable(records, query.policy));
  return 0;
}

function fail(message: string, code: number): number {
  process.stderr.write(`tenantgate audit: ${message}\n`);
  return code;
}

/** "15m" ago, or an absolute time; undefined when it is neither. */
export const parseSince = parseTime;

/** One row per violation: the same change shows once per policy it broke. */
export function renderTable(records: AuditRecord[], onlyPolicy?: string): string {
  const header = ['TIME', 'ACTION', 'USER', 'TENANT', 'OPERATION', 'OBJECT', 'POLICY', 'MESSAGE'];
  const rows = records.flatMap((r) =>
    r.violations
      .filter((v) => !onlyPolicy || v.policy === onlyPolicy)
      .map((v) => [
        r.time.replace(/\.\d+Z$/, 'Z'),
        r.dryRun ? `${v.action} (dry-run request)` : v.action,
        r.user,
        r.tenant ?? '-',
        r.operation,
        `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`,
        v.policy,
        v.message,
      ]),
  );
  if (rows.length === 0) return 'no refused or warned changes match\n';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
