// The audit query API and the auditors' web page, on their own HTTPS port (default 9444), apart from the
// admission port: this one asks clients for certificates and answers people, not the API server.
//
//   GET /audit/v1/records    ?tenant &namespace &user &policy &action &kind &since &until &limit &continue
//                            &order=desc|asc &afterId &format=json|csv
//                            &watch=true: a stream of new records instead (watch.ts)
//   GET /audit/v1/histogram  the same filters, &by=policy|tenant &bucket=SECONDS
//   GET /audit/v1/whoami     the caller as authenticated, and what it may read
//   GET /audit/              the web page (static; its data requests carry the bearer token)
//
// Every data request is authenticated and authorised by the cluster (access.ts): 401 without valid
// credentials, 403 without the right; a tenant auditor's results are limited to the namespaces it may read.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import express, { type NextFunction, type Request, type Response } from 'express';
import { closeNow, listenOn } from '../../lib/admin-server.ts';
import { errorMessage } from '../../lib/errors.ts';
import { componentLogger, type Logger } from '../../lib/logger.ts';
import { ENFORCEMENT_ACTIONS, type EnforcementAction } from '../../policies/types.ts';
import { AccessError, type AuditAccess, type Scope } from './access.ts';
import { pageAssets } from './page.ts';
import { AuditQueryError, MAX_PAGE, parseTime, type AuditQuery, type AuditStore } from './store.ts';
import { AuditWatches, type WatchOptions } from './watch.ts';

export interface AuditQueryServerOptions {
  store: AuditStore;
  access: AuditAccess;
  /** namespaces a tenant auditor's query may span: every tenant namespace, or one tenant's */
  tenantNamespaces: (tenant?: string) => string[];
  address: string;
  certPem: string;
  keyPem: string;
  /** PEM of the cluster's client CA: client certificates it signed authenticate their subject */
  clientCaPem?: string;
  watch?: WatchOptions;
  logger?: Logger;
}

export interface AuditQueryServer {
  readonly address: string;
  readonly port: number;
  setCertificate(certPem: string, keyPem: string): void;
  close(): Promise<void>;
}

export { parseTime };

export const RECORDS_PATH = '/audit/v1/records';
export const HISTOGRAM_PATH = '/audit/v1/histogram';
export const WHOAMI_PATH = '/audit/v1/whoami';
export const PAGE_PATH = '/audit/';

export async function startAuditQueryServer(options: AuditQueryServerOptions): Promise<AuditQueryServer> {
  const log = options.logger ?? componentLogger('audit-api');
  const tls = (certPem: string, keyPem: string) => ({
    cert: certPem,
    key: keyPem,
    minVersion: 'TLSv1.2' as const,
    // ask for a client certificate, accept connections without one (bearer tokens)
    requestCert: Boolean(options.clientCaPem),
    rejectUnauthorized: false,
    ...(options.clientCaPem ? { ca: options.clientCaPem } : {}),
  });
  const watches = new AuditWatches(options.store, log, options.watch);
  const server = https.createServer(
    tls(options.certPem, options.keyPem),
    createAuditApp(options, log, watches),
  );
  const address = await listenOn(server, options.address);
  const port = (server.address() as AddressInfo).port;
  return {
    address,
    port,
    setCertificate: (certPem, keyPem) => server.setSecureContext(tls(certPem, keyPem)),
    close: () => {
      // watchers get a clean end of their stream (and reconnect elsewhere) rather than a reset
      watches.closeAll();
      return closeNow(server);
    },
  };
}

export function createAuditApp(
  options: AuditQueryServerOptions,
  log: Logger,
  watches = new AuditWatches(options.store, log, options.watch),
): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    // the page's data is private to the caller, never cached by anything in between
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    next();
  });
  app.use((req, res, next) => (req.path === '/audit' ? res.redirect(301, PAGE_PATH) : next()));
  for (const asset of pageAssets()) {
    app.get(asset.path, (_req, res) => {
      res.setHeader(
        'content-security-policy',
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
      );
      res.type(asset.type).send(asset.body);
    });
  }

  const authorised = async (req: Request, query: AuditQuery) => {
    const caller = await options.access.caller(req.headers, req.socket as TLSSocket);
    const candidates = query.namespace ? [query.namespace] : options.tenantNamespaces(query.tenant);
    const scope = await options.access.scope(caller, candidates);
    return { caller, scope, query: scoped(query, scope) };
  };

  app.get(
    WHOAMI_PATH,
    wrap(async (req, res) => {
      const { caller, scope } = await authorised(req, {});
      res.json({ user: caller.user, groups: caller.groups, ...scopeJson(scope) });
    }),
  );

  app.get(
    RECORDS_PATH,
    wrap(async (req, res) => {
      const watch = parseWatch(req.query);
      const { caller, query } = await authorised(req, parseQuery(req.query));
      if (watch) {
        log.debug('audit watch opened', { user: caller.user });
        await watches.serve(req, res, query);
        return;
      }
      // taken before the query: a watch from here misses nothing the list did not show
      const latestId = await options.store.latestId();
      const page = await options.store.query(query);
      log.debug('audit records read', { user: caller.user, records: page.items.length });
      if (req.query.format === 'csv') {
        res.type('text/csv').attachment('refusals.csv').send(toCsv(page.items));
        return;
      }
      res.json({
        apiVersion: 'audit.tenantgate.io/v1alpha1',
        kind: 'AdmissionDenialList',
        metadata: { latestId, ...(page.continue ? { continue: page.continue } : {}) },
        items: page.items,
      });
    }),
  );

  app.get(
    HISTOGRAM_PATH,
    wrap(async (req, res) => {
      const { query } = await authorised(req, parseQuery(req.query));
      const by = req.query.by === 'tenant' ? 'tenant' : 'policy';
      const bucketSeconds = Number(req.query.bucket ?? 3600);
      if (!Number.isFinite(bucketSeconds) || bucketSeconds < 1)
        throw new AuditQueryError([`bucket '${String(req.query.bucket)}' must be a number of seconds >= 1`]);
      const buckets = await options.store.histogram(query, { bucketMs: bucketSeconds * 1000, by });
      res.json({ by, bucketSeconds, buckets });
    }),
  );

  app.use(
    (_req: Request, res: Response) => void status(res, 404, 'NotFound', `no such endpoint; see ${PAGE_PATH}`),
  );
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (err instanceof AccessError)
      status(res, err.status, err.status === 401 ? 'Unauthorized' : 'Forbidden', err.message);
    else if (err instanceof AuditQueryError) status(res, 400, 'BadRequest', err.message);
    else {
      log.error('audit query failed', { err });
      status(res, 500, 'InternalError', `the audit query failed: ${errorMessage(err)}`);
    }
  });
  return app;
}

/** Query-string filters to an AuditQuery; AuditQueryError names the bad parameter. */
export function parseQuery(q: Request['query'], now = new Date()): AuditQuery {
  const str = (name: string): string | undefined => {
    const v = q[name];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') throw new AuditQueryError([`parameter '${name}' given more than once`]);
    return v;
  };
  const out: AuditQuery = {};
  for (const name of ['tenant', 'namespace', 'user', 'policy', 'kind'] as const) {
    const v = str(name);
    if (v !== undefined) out[name] = v;
  }
  const action = str('action');
  if (action !== undefined) {
    if (!(ENFORCEMENT_ACTIONS as readonly string[]).includes(action))
      throw new AuditQueryError([`action '${action}' is not one of ${ENFORCEMENT_ACTIONS.join(', ')}`]);
    out.action = action as EnforcementAction;
  }
  for (const name of ['since', 'until'] as const) {
    const v = str(name);
    if (v === undefined) continue;
    const t = parseTime(v, now);
    if (!t)
      throw new AuditQueryError([
        `${name} '${v}' is neither a duration back from now (15m, 1h, 2d) nor a time (2026-01-02T15:04:05Z)`,
      ]);
    out[name] = t;
  }
  const limit = str('limit');
  if (limit !== undefined) {
    if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_PAGE)
      throw new AuditQueryError([`limit '${limit}' must be a whole number from 1 to ${MAX_PAGE}`]);
    out.limit = Number(limit);
  }
  const cont = str('continue');
  if (cont) out.continue = cont;
  const order = str('order');
  if (order !== undefined) {
    if (order !== 'asc' && order !== 'desc')
      throw new AuditQueryError([`order '${order}' must be asc or desc`]);
    out.order = order;
  }
  const afterId = str('afterId');
  if (afterId !== undefined) {
    if (!/^\d+$/.test(afterId)) throw new AuditQueryError([`afterId '${afterId}' must be a whole number`]);
    out.afterId = Number(afterId);
  }
  return out;
}

/** `watch=true|1|false|0`; a watch takes no paging, order or format (it streams in store order). */
export function parseWatch(q: Request['query']): boolean {
  const v = q.watch;
  if (v === undefined || v === 'false' || v === '0') return false;
  if (v !== 'true' && v !== '1') throw new AuditQueryError([`watch '${String(v)}' must be true or false`]);
  for (const name of ['limit', 'continue', 'order', 'format'])
    if (q[name] !== undefined)
      throw new AuditQueryError([
        `'${name}' does not apply to a watch (it streams new records in the order stored)`,
      ]);
  return true;
}

function scoped(query: AuditQuery, scope: Scope): AuditQuery {
  return scope.all ? query : { ...query, onlyNamespaces: scope.namespaces };
}

function scopeJson(scope: Scope) {
  return scope.all ? { scope: 'cluster' } : { scope: 'namespaces', namespaces: scope.namespaces };
}

const CSV_COLUMNS = [
  'time',
  'action',
  'user',
  'tenant',
  'namespace',
  'kind',
  'name',
  'operation',
  'policies',
  'messages',
  'uid',
];

export function toCsv(
  items: {
    time: string;
    action: string;
    user: string;
    tenant?: string;
    namespace?: string;
    kind: string;
    name: string;
    operation: string;
    uid: string;
    violations: { policy: string; message: string }[];
  }[],
): string {
  const cell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  const rows = items.map((r) =>
    [
      r.time,
      r.action,
      r.user,
      r.tenant ?? '',
      r.namespace ?? '',
      r.kind,
      r.name,
      r.operation,
      r.violations.map((v) => v.policy).join(' '),
      r.violations.map((v) => `[${v.policy}] ${v.message}`).join('\n'),
      r.uid,
    ]
      .map(cell)
      .join(','),
  );
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

function wrap(fn: (req: Request, res: Response) => Promise<void>) {
  return (req: Request, res: Response, next: NextFunction) => void fn(req, res).catch(next);
}

function status(res: Response, code: number, reason: string, message: string): void {
  res.status(code).json({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
}
