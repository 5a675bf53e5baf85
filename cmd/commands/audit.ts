// `tenantgate audit`: the refused, warned and dry-run changes from the webhook's audit log.
import { parseArgs } from 'node:util';
import {
  auditFiles,
  defaultAuditLogPath,
  readAuditLog,
  type AuditFilter,
  type AuditRecord,
} from '../../webhooks/audit-log.ts';

const usage = `usage: tenantgate audit [options]

Lists the changes the admission webhook refused (deny), warned about (warn) or let through while
recording them (dryrun), newest last, from its JSON-lines audit log and the log's rotated files.

options:
  --tenant NAME      only changes concerning this tenant
  --user NAME        only changes by this user (as the API server named them)
  --policy NAME      only changes that violated this policy
  --since WHEN       a duration back from now (90s, 15m, 1h, 2d) or a time (2026-01-02T15:04:05Z)
  -o, --output FMT   table (default) or json (the full records, objects included)
  --file PATH        the audit log (default: $TENANTGATE_AUDIT_LOG, the 'tenantgate local' log
                     .tenantgate/local/audit/admission.jsonl if present, else .tenantgate/audit/admission.jsonl)
  -h, --help
`;

export async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        tenant: { type: 'string' },
        user: { type: 'string' },
        policy: { type: 'string' },
        since: { type: 'string' },
        output: { type: 'string', short: 'o', default: 'table' },
        file: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    process.stderr.write(`tenantgate audit: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  if (values.output !== 'table' && values.output !== 'json') {
    process.stderr.write(`tenantgate audit: -o must be table or json, not '${values.output}'\n`);
    return 2;
  }
  const filter: AuditFilter = {};
  if (values.tenant) filter.tenant = values.tenant;
  if (values.user) filter.user = values.user;
  if (values.policy) filter.policy = values.policy;
  if (values.since) {
    const since = parseSince(values.since, new Date());
    if (!since) {
      process.stderr.write(
        `tenantgate audit: --since '${values.since}' is neither a duration (15m, 1h, 2d) nor a time (2026-01-02T15:04:05Z)\n`,
      );
      return 2;
    }
    filter.since = since;
  }
  const path = values.file ?? defaultAuditLogPath();
  if (auditFiles(path).length === 0) {
    process.stderr.write(`tenantgate audit: no audit log at ${path} (set --file or $TENANTGATE_AUDIT_LOG)\n`);
    return 1;
  }
  const records = await readAuditLog(path, filter);
  process.stdout.write(
    values.output === 'json' ? JSON.stringify(records, null, 2) + '\n' : renderTable(records, filter.policy),
  );
  return 0;
}

/** "15m" ago, or an absolute time; undefined when it is neither. */
export function parseSince(value: string, now: Date): Date | undefined {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(value.trim());
  if (m) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now.getTime() - Number(m[1]) * unit);
  }
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t);
}

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
