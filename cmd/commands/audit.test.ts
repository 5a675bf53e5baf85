import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { AuditLog, auditRecord } from '../../webhooks/audit-log.ts';
import { routeRequest } from '../../test/helpers/admission.ts';
import { parseSince, renderTable } from './audit.ts';

const root = join(import.meta.dirname, '..', '..');
const run = async (args: string[]) => {
  try {
    const { stdout } = await promisify(execFile)(join(root, 'node_modules/.bin/node'), [
      join(root, 'cmd/tenantgate.ts'),
      'audit',
      ...args,
    ]);
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout + e.stderr };
  }
};

describe('tenantgate audit', () => {
  it('parses --since as a duration or a time', () => {
    const now = new Date('2026-03-01T12:00:00Z');
    expect(parseSince('90s', now)).toEqual(new Date('2026-03-01T11:58:30Z'));
    expect(parseSince('2h', now)).toEqual(new Date('2026-03-01T10:00:00Z'));
    expect(parseSince('1d', now)).toEqual(new Date('2026-02-28T12:00:00Z'));
    expect(parseSince('2026-01-02T03:04:05Z', now)).toEqual(new Date('2026-01-02T03:04:05Z'));
    expect(parseSince('yesterday', now)).toBeUndefined();
  });

  it('renders one row per violation', () => {
    const record = auditRecord(
      routeRequest(undefined, { dryRun: true }),
      [
        { policy: 'route-hostnames', message: 'bad host — fix', action: 'deny', bundle: 'builtin' },
        { policy: 'route-count', message: 'too many — delete one', action: 'warn', bundle: 'builtin' },
      ],
      'acme',
      new Date('2026-03-01T12:00:00.123Z'),
    );
    const lines = renderTable([record]).trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^TIME\s+ACTION\s+USER\s+TENANT\s+OPERATION\s+OBJECT\s+POLICY\s+MESSAGE$/);
    expect(lines[1]).toMatch(
      /^2026-03-01T12:00:00Z\s+deny \(dry-run request\)\s+alice\s+acme\s+CREATE\s+HTTPRoute acme-web\/shop\s+route-hostnames\s+bad host — fix$/,
    );
    expect(renderTable([record], 'route-count').split('\n')).toHaveLength(3); // header, one row, ''
  });

  it('reads the log with filters, as a table or JSON', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tg-audit-cmd-')), 'admission.jsonl');
    const log = new AuditLog({ path });
    const deny = (policy: string) => [
      { policy, message: `${policy} — fix`, action: 'deny' as const, bundle: 'builtin' },
    ];
    log.record(
      auditRecord(
        routeRequest(undefined, { uid: 'a', userInfo: { username: 'alice' } }),
        deny('route-hostnames'),
        'acme',
        new Date(Date.now() - 3 * 3600_000),
      ),
    );
    log.record(
      auditRecord(
        routeRequest(undefined, { uid: 'b', userInfo: { username: 'bob' } }),
        deny('route-count'),
        'globex',
      ),
    );
    log.record(
      auditRecord(
        routeRequest(undefined, { uid: 'c', userInfo: { username: 'alice' } }),
        deny('route-count'),
        'acme',
      ),
    );
    await log.close();

    const json = await run(['--file', path, '--user', 'alice', '-o', 'json']);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { uid: string }[]).map((r) => r.uid)).toEqual(['a', 'c']);
    const recent = await run(['--file', path, '--since', '1h', '--tenant', 'acme', '-o', 'json']);
    expect((JSON.parse(recent.stdout) as { uid: string }[]).map((r) => r.uid)).toEqual(['c']);
    const table = await run(['--file', path, '--policy', 'route-count']);
    expect(
      table.stdout
        .trimEnd()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s{2,}/)[2]),
    ).toEqual(['bob', 'alice']);
    expect((await run(['--file', join(path, 'missing')])).code).toBe(1);
    expect((await run(['--file', path, '--since', 'soon'])).code).toBe(2);
  });
});
