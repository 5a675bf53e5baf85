// The audit store's schema as numbered migrations, one list per SQL dialect. A store applies, in one
// transaction each, those above the version recorded in audit_schema_migrations; never edit a shipped
// migration, append a new one. Time is kept as ms since the epoch (BIGINT) in both dialects so that the
// query builder in store.ts serves both.
//
// The indexes follow the queries: every listing is a time range, usually narrowed by tenant, namespace
// (tenant auditors), user or kind; the policy filter and the per-policy chart go through audit_violations.
export interface Migration {
  version: number;
  description: string;
  statements: string[];
}

const recordColumns = (id: string, json: string) => `
  id ${id},
  uid TEXT NOT NULL UNIQUE,
  time_ms BIGINT NOT NULL,
  tenant TEXT,
  namespace TEXT,
  user_name TEXT NOT NULL,
  kind TEXT NOT NULL,
  operation TEXT NOT NULL,
  action TEXT NOT NULL,
  dry_run BOOLEAN NOT NULL,
  record ${json} NOT NULL`;

const v1Indexes = [
  'CREATE INDEX audit_records_time ON audit_records (time_ms)',
  'CREATE INDEX audit_records_tenant_time ON audit_records (tenant, time_ms)',
  'CREATE INDEX audit_records_namespace_time ON audit_records (namespace, time_ms)',
  'CREATE INDEX audit_records_user_time ON audit_records (user_name, time_ms)',
  'CREATE INDEX audit_violations_policy ON audit_violations (policy, record_id)',
  'CREATE INDEX audit_violations_record ON audit_violations (record_id)',
];

// v2: the replica that recorded a refusal (for "which pod said no"), and listing by kind.
const v2 = (addColumn: string): Migration => ({
  version: 2,
  description: 'record the webhook replica; index kind + time',
  statements: [addColumn, 'CREATE INDEX audit_records_kind_time ON audit_records (kind, time_ms)'],
});

// v1: the records and their violations; only the key and JSON column types differ between the databases.
const v1 = (idColumn: string, jsonType: string, recordIdType: string): Migration => ({
  version: 1,
  description: 'records and their violations',
  statements: [
    `CREATE TABLE audit_records (${recordColumns(idColumn, jsonType)})`,
    `CREATE TABLE audit_violations (
         record_id ${recordIdType} NOT NULL REFERENCES audit_records (id) ON DELETE CASCADE,
         policy TEXT NOT NULL,
         action TEXT NOT NULL)`,
    ...v1Indexes,
  ],
});

export const SQLITE_MIGRATIONS: Migration[] = [
  v1('INTEGER PRIMARY KEY AUTOINCREMENT', 'TEXT', 'INTEGER'),
  v2('ALTER TABLE audit_records ADD COLUMN replica TEXT'),
];

export const POSTGRES_MIGRATIONS: Migration[] = [
  v1('BIGSERIAL PRIMARY KEY', 'JSONB', 'BIGINT'),
  v2('ALTER TABLE audit_records ADD COLUMN replica TEXT'),
];

export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS audit_schema_migrations (
  version INTEGER PRIMARY KEY,
  description TEXT NOT NULL,
  applied_ms BIGINT NOT NULL)`;

export const LATEST_SCHEMA_VERSION = SQLITE_MIGRATIONS.at(-1)!.version;
