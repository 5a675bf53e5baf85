// Where the audit store is and how long it keeps records, from the environment; bad values name the
// variable and what it accepts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditStoreConfigFromEnv, retentionFromEnv } from './trail.ts';

const dir = '/var/lib/tenantgate';

describe('audit store settings', () => {
  it('is SQLite in the given directory unless a DSN is set', () => {
    expect(auditStoreConfigFromEnv({ dir }, {})).toEqual({
      backend: 'sqlite',
      path: '/var/lib/tenantgate/audit.db',
      synchronous: 'FULL',
    });
    expect(auditStoreConfigFromEnv({ dir }, { TENANTGATE_AUDIT_DSN: 'postgres://db/x' })).toEqual({
      backend: 'postgres',
      dsn: 'postgres://db/x',
      spoolPath: '/var/lib/tenantgate/spool',
      synchronous: 'FULL',
    });
    // the spool of a SQLite store is beside it unless set
    expect(auditStoreConfigFromEnv({ dir }, { TENANTGATE_AUDIT_SPOOL: '/spool' })).toMatchObject({
      backend: 'sqlite',
      spoolPath: '/spool',
    });
    expect(auditStoreConfigFromEnv({ dir }, { TENANTGATE_AUDIT_STORE: 'off' })).toEqual({ backend: 'off' });
    expect(
      auditStoreConfigFromEnv(
        { dir },
        { TENANTGATE_AUDIT_DSN: 'postgres://db/x', TENANTGATE_AUDIT_LOAD_INTERVAL_MS: '1000' },
      ),
    ).toMatchObject({ backend: 'postgres', loadIntervalMs: 1000 });
    expect(auditStoreConfigFromEnv({ dir }, { TENANTGATE_AUDIT_LOAD_INTERVAL_MS: '0' })).toMatchObject({
      backend: 'sqlite',
      loadIntervalMs: 0,
    });
  });

  it('reads the DSN from a mounted Secret file', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'tg-dsn-')), 'dsn');
    writeFileSync(file, 'postgres://u:p@db:5432/audit\n');
    expect(auditStoreConfigFromEnv({ dir }, { TENANTGATE_AUDIT_DSN_FILE: file })).toMatchObject({
      backend: 'postgres',
      dsn: 'postgres://u:p@db:5432/audit',
    });
    expect(() => auditStoreConfigFromEnv({ dir }, { TENANTGATE_AUDIT_DSN_FILE: `${file}-missing` })).toThrow(
      /TENANTGATE_AUDIT_DSN_FILE .* cannot be read/,
    );
  });

  it('names the variable and the accepted values when one is wrong', () => {
    expect(() => auditStoreConfigFromEnv({ dir }, { TENANTGATE_AUDIT_STORE: 'mysql' })).toThrow(
      /TENANTGATE_AUDIT_STORE is 'mysql'; use sqlite, postgres or off/,
    );
    expect(() => auditStoreConfigFromEnv({ dir }, { TENANTGATE_AUDIT_STORE: 'postgres' })).toThrow(
      /TENANTGATE_AUDIT_DSN .* is empty/,
    );
    expect(() => auditStoreConfigFromEnv({ dir }, { TENANTGATE_AUDIT_SYNC: 'ALWAYS' })).toThrow(
      /use FULL or NORMAL/,
    );
    // strictly digits, no unit, sign, exponent or padding: '2e2', ' 200', '200ms', '-1' are not guessed at
    for (const bad of ['', '2e2', ' 200', '200ms', '-1', '0x10', '60001', '1.5'])
      expect(() => auditStoreConfigFromEnv({ dir }, { TENANTGATE_AUDIT_LOAD_INTERVAL_MS: bad })).toThrow(
        /TENANTGATE_AUDIT_LOAD_INTERVAL_MS is '.*'; use a whole number of milliseconds from 0 to 60000/,
      );
  });

  it('keeps 90 days and 5,000,000 records by default; 0 turns a limit off', () => {
    expect(retentionFromEnv({})).toEqual({ maxAgeMs: 90 * 86_400_000, maxRecords: 5_000_000 });
    expect(retentionFromEnv({ TENANTGATE_AUDIT_MAX_AGE: '12h', TENANTGATE_AUDIT_MAX_RECORDS: '0' })).toEqual({
      maxAgeMs: 12 * 3_600_000,
    });
    expect(() => retentionFromEnv({ TENANTGATE_AUDIT_MAX_AGE: 'forever' })).toThrow(
      /TENANTGATE_AUDIT_MAX_AGE/,
    );
    expect(() => retentionFromEnv({ TENANTGATE_AUDIT_MAX_RECORDS: 'lots' })).toThrow(/whole number/);
  });
});
