import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Decision } from '../policies/types.ts';
import { AuditLog, auditFiles, auditRecord, readAuditLog, REDACTED, redact } from './audit-log.ts';
import { routeRequest } from '../test/helpers/admission.ts';

const deny = (policy: string): Decision => ({
  policy,
  message: `${policy} says no — fix it`,
  action: 'deny',
  bundle: 'builtin',
});

describe('audit log', () => {
  it('writes JSON lines, rotates by size, and reads every file back in time order with filters', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tg-audit-')), 'admission.jsonl');
    const log = new AuditLog({ path, maxSizeBytes: 4096, maxFiles: 20 });
    const start = Date.parse('2026-03-01T10:00:00Z');
    for (let i = 0; i < 40; i++) {
      const request = routeRequest(undefined, {
        uid: `uid-${i}`,
        userInfo: { username: i % 2 ? 'alice' : 'bob' },
      });
      log.record(
        auditRecord(
          request,
          [deny(i % 4 === 0 ? 'route-count' : 'route-hostnames')],
          i % 2 ? 'acme' : 'globex',
          new Date(start + i * 60_000),
        ),
      );
    }
    await log.close();
    expect(auditFiles(path).length).toBeGreaterThan(3);
    const all = await readAuditLog(path);
    expect(all.map((r) => r.uid)).toEqual(Array.from({ length: 40 }, (_, i) => `uid-${i}`));
    expect(
      (await readAuditLog(path, { user: 'alice' })).every((r) => r.user === 'alice' && r.tenant === 'acme'),
    ).toBe(true);
    expect(await readAuditLog(path, { policy: 'route-count' })).toHaveLength(10);
    expect(await readAuditLog(path, { tenant: 'globex', since: new Date(start + 30 * 60_000) })).toHaveLength(
      5,
    );
  });

  it('keeps at most maxFiles rotated files, dropping the oldest records', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tg-audit-')), 'a.jsonl');
    const log = new AuditLog({ path, maxSizeBytes: 1500, maxFiles: 2 });
    for (let i = 0; i < 30; i++)
      log.record(auditRecord(routeRequest(undefined, { uid: `u${i}` }), [deny('p')], 'acme'));
    await log.close();
    expect(auditFiles(path).map((f) => basename(f))).toEqual(['a2.jsonl', 'a1.jsonl', 'a.jsonl']);
    const kept = (await readAuditLog(path)).map((r) => r.uid);
    expect(kept.at(-1)).toBe('u29');
    expect(kept.length).toBeLessThan(30);
  });

  it('redacts Secret values and the last-applied annotation that repeats them', () => {
    const secret = {
      kind: 'Secret',
      metadata: {
        name: 's',
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"password":"aHVudGVyMg=="}}',
          keep: 'me',
        },
        managedFields: [{}],
      },
      data: { password: 'aHVudGVyMg==' },
      stringData: { token: 'hunter2' },
    };
    expect(redact('Secret', secret)).toEqual({
      kind: 'Secret',
      metadata: { name: 's', annotations: { keep: 'me' } },
      data: { password: REDACTED },
      stringData: { token: REDACTED },
    });
    expect(secret.data.password).toBe('aHVudGVyMg=='); // a copy: the review itself is untouched
    expect(redact('HTTPRoute', { metadata: { managedFields: [{}] }, spec: { a: 1 } })).toEqual({
      metadata: {},
      spec: { a: 1 },
    });
  });

  it('records the old object of a DELETE', () => {
    const request = routeRequest(undefined, {
      operation: 'DELETE',
      object: null,
      oldObject: { metadata: { name: 'shop' }, spec: { x: 1 } },
    });
    expect(auditRecord(request, [deny('p')], 'acme').object).toEqual({
      metadata: { name: 'shop' },
      spec: { x: 1 },
    });
  });
});
