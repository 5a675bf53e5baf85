// The auditors' web page in a real headless Chromium (Debian's `chromium`, driven by playwright-core),
// served by the webhook component against the run's real API server and a real PostgreSQL: the page
// loads with the cluster auditor's token, a filter narrows the rows, the chart shows the right counts by
// policy and by tenant, a record's detail shows every violation and how to fix it, CSV export downloads
// the rows, and a tenant auditor never sees another tenant's rows.
//
// TENANTGATE_SCREENSHOTS=DIR also saves the screenshots docs/audit.md shows.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../webhooks/audit-log.ts';
import { sampleRecord } from '../e2e/audit-fixtures.ts';
import {
  auditNames,
  startAuditCluster,
  type AuditCluster,
  type AuditNames,
} from './audit-cluster-fixture.ts';

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const names = auditNames('audit-page');
const { acme, globex, ns } = names;

const fix = (what: string, how: string) => `${what} — ${how}`;

/** acme-web 5 (3 route-hostnames, 2 route-count), acme-api 2 route-hostnames, globex-web 4 route-gateways,
 *  1 cluster-scoped Tenant record (tenant-namespaces): 12 records over the last 10 hours */
function records({ run }: AuditNames): AuditRecord[] {
  const hoursAgo = (h: number, i: number) => new Date(Date.now() - h * 3_600_000 - i * 1000).toISOString();
  const v = (policy: string, action: 'deny' | 'warn', message: string) => ({
    policy,
    action,
    message,
    bundle: 'builtin',
  });
  let i = 0;
  const make = (h: number, over: Partial<AuditRecord>) =>
    sampleRecord({ uid: `${run}-${i}`, time: hoursAgo(h, i++), ...over });
  const hostnames = v(
    'route-hostnames',
    'deny',
    fix(
      "spec.hostnames[0] 'shop.globex.example.com' is not among the tenant's hostnames",
      'use a hostname the tenant lists',
    ),
  );
  return [
    ...[1, 1, 5].map((h) =>
      make(h, { tenant: acme, namespace: ns.web, name: `shop${i}`, violations: [hostnames] }),
    ),
    ...[5, 10].map((h) =>
      make(h, {
        tenant: acme,
        namespace: ns.web,
        action: 'warn',
        allowed: true,
        name: `extra${i}`,
        violations: [
          v('route-count', 'warn', fix('the tenant has 51 routes, over its limit of 50', 'delete a route')),
        ],
      }),
    ),
    ...[1, 10].map((h) =>
      make(h, { tenant: acme, namespace: ns.api, name: `api${i}`, violations: [hostnames] }),
    ),
    ...[1, 1, 5, 10].map((h) =>
      make(h, {
        tenant: globex,
        namespace: ns.other,
        user: 'mallory',
        name: `gw${i}`,
        violations: [
          v(
            'route-gateways',
            'deny',
            fix(
              "Gateway infra/private is not given to tenant '" + globex + "'",
              'attach to a Gateway the tenant lists',
            ),
          ),
        ],
      }),
    ),
    make(5, {
      tenant: acme,
      namespace: undefined,
      kind: 'Tenant',
      apiVersion: 'tenantgate.io/v1alpha1',
      name: acme,
      user: 'platform-admin',
      violations: [
        v(
          'tenant-namespaces',
          'deny',
          fix(`namespace ${ns.other} belongs to tenant ${globex}`, 'list a namespace no other tenant has'),
        ),
      ],
    }),
  ];
}

describe('auditors web page in headless Chromium', () => {
  let cluster: AuditCluster;
  let browser: Browser;

  beforeAll(async () => {
    cluster = await startAuditCluster(names, records);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: CHROMIUM_FLAGS,
    });
  });
  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
  });

  const open = async (token: string, query = ''): Promise<Page> => {
    // the page's certificate is the webhook's own CA's: trusted here as a browser would after import
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    await page.goto(`${cluster.webhook.auditUrl}/audit/${query}#token=${token}`);
    await page.waitForSelector('body[data-loaded]');
    return page;
  };
  const reload = async (page: Page, action: () => Promise<void>) => {
    const before = await page.getAttribute('body', 'data-loaded');
    await action();
    // a selector, not waitForFunction: a string predicate is eval'd in the page, which its CSP refuses
    await page.waitForSelector(`body[data-loaded]:not([data-loaded=${JSON.stringify(before ?? '')}])`);
  };
  const rows = (page: Page) =>
    page.$$eval('#records tbody tr', (trs) =>
      trs.map((tr) => ({
        tenant: tr.getAttribute('data-tenant'),
        namespace: tr.getAttribute('data-namespace'),
      })),
    );
  const legend = (page: Page) =>
    page.$$eval('#legend li[data-key]', (lis) =>
      Object.fromEntries(
        lis.map((li) => [li.getAttribute('data-key'), Number(li.getAttribute('data-total'))]),
      ),
    );
  const barTotal = (page: Page) =>
    page.$$eval('#chart rect[data-count]', (rects) =>
      rects.reduce((n, r) => n + Number(r.getAttribute('data-count')), 0),
    );

  it('shows a cluster auditor every record, filters them, charts them, details and exports them', async () => {
    const page = await open(cluster.tokens.cluster);
    expect(await page.textContent('#who')).toContain('all records');
    expect(await rows(page)).toHaveLength(12);
    expect(await legend(page)).toEqual({
      'route-hostnames': 5,
      'route-count': 2,
      'route-gateways': 4,
      'tenant-namespaces': 1,
    });
    expect(await barTotal(page)).toBe(12);
    // three hourly buckets hold records: 1 h, 5 h and 10 h ago
    const starts = await page.$$eval(
      '#chart rect[data-count]',
      (r) => new Set(r.map((x) => x.getAttribute('data-start'))).size,
    );
    expect(starts).toBe(3);
    if (process.env.TENANTGATE_SCREENSHOTS)
      await page.screenshot({
        path: join(process.env.TENANTGATE_SCREENSHOTS, 'audit-page.png'),
        fullPage: true,
      });

    await page.check('input[name=by][value=tenant]');
    await expect.poll(() => legend(page)).toEqual({ [acme]: 8, [globex]: 4 });

    await reload(page, async () => {
      await page.fill('input[name=tenant]', globex);
      await page.click('#apply');
    });
    const narrowed = await rows(page);
    expect(narrowed).toHaveLength(4);
    expect(narrowed.every((r) => r.tenant === globex)).toBe(true);
    expect(await legend(page)).toEqual({ [globex]: 4 });
    expect(page.url()).toContain(`tenant=${globex}`);

    await page.click('#records tbody tr');
    await page.waitForSelector('#detail:not([hidden])');
    const detail = await page.textContent('#detail-violations');
    expect(detail).toContain('[route-gateways] deny');
    expect(detail).toContain('How to fix: attach to a Gateway the tenant lists');
    expect(await page.textContent('#detail-object')).toContain('"kind": "HTTPRoute"');
    if (process.env.TENANTGATE_SCREENSHOTS)
      await page.screenshot({ path: join(process.env.TENANTGATE_SCREENSHOTS, 'audit-detail.png') });
    await page.click('#close-detail');

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\r\n');
    expect(csv[0]).toBe('time,action,user,tenant,namespace,kind,name,operation,policies,messages,uid');
    expect(csv.slice(1).map((line) => line.split(',')[3])).toEqual([globex, globex, globex, globex]);
    const [json] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
    const exported = JSON.parse(readFileSync((await json.path())!, 'utf8')) as AuditRecord[];
    expect(exported.map((r) => r.tenant)).toEqual([globex, globex, globex, globex]);
    expect(exported[0]!.violations[0]!.policy).toBe('route-gateways');
    await page.context().close();
  });

  it("never shows a tenant auditor another tenant's rows", async () => {
    const page = await open(cluster.tokens.tenant);
    expect(await page.textContent('#who')).toContain(`namespaces: ${ns.web}`);
    const mine = await rows(page);
    expect(mine).toHaveLength(5);
    expect(mine.every((r) => r.namespace === ns.web)).toBe(true);
    expect(await legend(page)).toEqual({ 'route-hostnames': 3, 'route-count': 2 });
    expect(await barTotal(page)).toBe(5);
    // asking for the other tenant is refused, and shows nothing of it
    await reload(page, async () => {
      await page.fill('input[name=tenant]', globex);
      await page.click('#apply');
    });
    expect(await page.textContent('#error')).toMatch(/may not list admissiondenials/);
    expect(await rows(page)).toEqual([]);
    // nor through the address bar
    const direct = await open(cluster.tokens.tenant, `?namespace=${ns.other}`);
    expect(await rows(direct)).toEqual([]);
    expect(await direct.textContent('body')).not.toContain('mallory');
    await page.context().close();
    await direct.context().close();
  });

  it('asks for a token when it has none, and refuses one the cluster does not know', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    await page.goto(`${cluster.webhook.auditUrl}/audit/`);
    await page.waitForSelector('#login:not([hidden])');
    await page.fill('#token', 'not-a-token');
    await page.click('#login-form button');
    await expect.poll(() => page.textContent('#who')).toContain('not accepted');
    expect(await page.isHidden('#app')).toBe(true);
    await context.close();
  });
});
