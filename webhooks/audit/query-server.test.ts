// The query API's parameter parsing and CSV export, and the auditor ClusterRole's rules in code and in
// config/audit agreeing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { AUDITOR_CLUSTER_ROLE, AUDITOR_RULES } from './access.ts';
import { parseQuery, parseWatch, toCsv } from './query-server.ts';
import { AuditQueryError } from './store.ts';

const now = new Date('2026-03-01T12:00:00Z');

describe('audit query parameters', () => {
  it('reads every filter, durations and times', () => {
    expect(
      parseQuery(
        {
          tenant: 'acme',
          namespace: 'acme-web',
          user: 'alice',
          policy: 'route-hostnames',
          kind: 'HTTPRoute',
          action: 'deny',
          since: '2h',
          until: '2026-03-01T11:30:00Z',
          limit: '50',
          order: 'asc',
        },
        now,
      ),
    ).toEqual({
      tenant: 'acme',
      namespace: 'acme-web',
      user: 'alice',
      policy: 'route-hostnames',
      kind: 'HTTPRoute',
      action: 'deny',
      since: new Date('2026-03-01T10:00:00Z'),
      until: new Date('2026-03-01T11:30:00Z'),
      limit: 50,
      order: 'asc',
    });
  });

  it('names the bad parameter and what it accepts', () => {
    const bad = (q: Record<string, string | string[]>) => () => parseQuery(q, now);
    expect(bad({ action: 'block' })).toThrow(/action 'block' is not one of deny, warn, dryrun/);
    expect(bad({ since: 'yesterday' })).toThrow(/since 'yesterday' is neither a duration/);
    expect(bad({ limit: '5000' })).toThrow(/limit '5000' must be a whole number from 1 to 1000/);
    expect(bad({ tenant: ['a', 'b'] })).toThrow(AuditQueryError);
    expect(bad({ order: 'up' })).toThrow(/order 'up' must be asc or desc/);
  });
});

describe('watch parameter', () => {
  it('is true or false, and a watch takes no paging, order or format', () => {
    expect(parseWatch({})).toBe(false);
    expect(parseWatch({ watch: 'false' })).toBe(false);
    expect(parseWatch({ watch: 'true', tenant: 'acme', afterId: '7' })).toBe(true);
    expect(parseWatch({ watch: '1' })).toBe(true);
    expect(() => parseWatch({ watch: 'yes' })).toThrow(/watch 'yes' must be true or false/);
    expect(() => parseWatch({ watch: ['true', 'true'] })).toThrow(AuditQueryError);
    for (const name of ['limit', 'continue', 'order', 'format'])
      expect(() => parseWatch({ watch: 'true', [name]: 'x' })).toThrow(`'${name}' does not apply to a watch`);
  });
});

describe('CSV export', () => {
  it('quotes cells with commas, quotes and new lines', () => {
    const csv = toCsv([
      {
        time: '2026-03-01T12:00:00.000Z',
        action: 'deny',
        user: 'alice',
        tenant: 'acme',
        namespace: 'acme-web',
        kind: 'HTTPRoute',
        name: 'shop',
        operation: 'CREATE',
        uid: 'u1',
        violations: [
          { policy: 'a', message: 'host "x", not yours' },
          { policy: 'b', message: 'second' },
        ],
      },
    ]);
    expect(csv).toBe(
      'time,action,user,tenant,namespace,kind,name,operation,policies,messages,uid\r\n' +
        '2026-03-01T12:00:00.000Z,deny,alice,acme,acme-web,HTTPRoute,shop,CREATE,a b,"[a] host ""x"", not yours\n[b] second",u1\r\n',
    );
  });
});

describe('ClusterRole tenantgate:auditor', () => {
  it('has the same rules in config/audit/rbac.yaml as tenantgate local creates', () => {
    const docs = parseAllDocuments(
      readFileSync(join(import.meta.dirname, '..', '..', 'config', 'audit', 'rbac.yaml'), 'utf8'),
    ).map((d) => d.toJS() as { kind: string; metadata: { name: string }; rules?: unknown });
    const role = docs.find((d) => d.kind === 'ClusterRole' && d.metadata.name === AUDITOR_CLUSTER_ROLE);
    expect(role?.rules).toEqual(AUDITOR_RULES);
  });
});
