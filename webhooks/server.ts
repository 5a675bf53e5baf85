// The webhook's HTTPS server (express): POST /validate takes an AdmissionReview and answers one.
// - a body over the limit gets 413, a body that is not JSON or not an AdmissionReview gets 400, each with
//   a metav1.Status naming the reason;
// - an internal deadline, well inside the ValidatingWebhookConfiguration's timeoutSeconds, answers
//   "not allowed" itself rather than letting the API server time out with a vaguer error;
// - the serving certificate can be swapped without a restart (rotation): setCertificate().
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { closeNow, parseHostPort } from '../lib/admin-server.ts';
import { componentLogger, type Logger } from '../lib/logger.ts';
import type { AdmissionHandler } from './handler.ts';
import { reviewSeconds, reviewsTotal } from './metrics.ts';
import { errorResponse } from './review.ts';

export const VALIDATE_PATH = '/validate';

export interface WebhookServerOptions {
  handler: AdmissionHandler;
  /** host:port; port 0 picks a free one */
  address: string;
  certPem: string;
  keyPem: string;
  /** default 3 MiB: an object and its old version, each up to etcd's 1.5 MiB */
  bodyLimitBytes?: number;
  /** default 3000 ms, inside a 5 s webhook timeout */
  deadlineMs?: number;
  logger?: Logger;
}

export interface WebhookServer {
  /** host:port actually bound */
  readonly address: string;
  readonly port: number;
  setCertificate(certPem: string, keyPem: string): void;
  close(): Promise<void>;
}

export async function startWebhookServer(options: WebhookServerOptions): Promise<WebhookServer> {
  const log = options.logger ?? componentLogger('webhook');
  const app = createApp(options, log);
  const server = https.createServer(
    { cert: options.certPem, key: options.keyPem, minVersion: 'TLSv1.2' },
    app,
  );
  const deadline = options.deadlineMs ?? 3000;
  // slow uploads are cut off too, not just slow evaluations
  server.requestTimeout = deadline + 1000;
  server.headersTimeout = deadline + 1000;
  const { host, port } = parseHostPort(options.address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: `${bound.address}:${bound.port}`,
    port: bound.port,
    setCertificate: (certPem, keyPem) =>
      server.setSecureContext({ cert: certPem, key: keyPem, minVersion: 'TLSv1.2' }),
    close: () => closeNow(server),
  };
}

export function createApp(options: WebhookServerOptions, log: Logger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // a hash of every answer, for nothing: reviews are never cached
  app.get('/healthz', (_req, res) => void res.type('text/plain').send('ok\n'));
  app.post(
    VALIDATE_PATH,
    startDeadline(options.deadlineMs ?? 3000, log),
    // any content type is read as JSON: the API server sends application/json, and anything else that is
    // not JSON gets a 400 naming the parse error. Kept raw too: the policy engine reads the JSON text itself.
    express.raw({ limit: options.bodyLimitBytes ?? 3 * 1024 * 1024, type: () => true }),
    async (req: Request, res: Response) => {
      if (res.headersSent) return; // the deadline answered already
      const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch (err) {
        reviewsTotal.inc({ result: 'invalid' });
        badRequest(res, 400, `malformed AdmissionReview: the body is not JSON (${(err as Error).message})`);
        return;
      }
      res.locals.body = body;
      // async: the answer leaves only once the audit record is durable (a failure becomes a 500); a
      // counted CREATE reserves a slot (quota.ts); a namespace hand-over asks the API server
      // (adoption-gate.ts); a rejection (a bug) reaches the error handler below as a 500
      const result = await options.handler(body, raw);
      if (res.headersSent) return; // the deadline answered first (a slot may be reserved: it expires)
      if (result.status === 400) {
        badRequest(res, 400, result.reason);
        return;
      }
      res.status(200).json(result.review);
    },
  );
  app.use(
    (_req: Request, res: Response) =>
      void status(res, 404, 'NotFound', `no such endpoint; POST AdmissionReviews to ${VALIDATE_PATH}`),
  );
  app.use(
    (err: Error & { type?: string; status?: number }, _req: Request, res: Response, _next: NextFunction) => {
      if (res.headersSent) return;
      if (err.type === 'entity.too.large') {
        reviewsTotal.inc({ result: 'invalid' });
        badRequest(
          res,
          413,
          `the AdmissionReview is larger than the ${options.bodyLimitBytes ?? 3 * 1024 * 1024}-byte limit`,
        );
      } else if (err.status && err.status >= 400 && err.status < 500) {
        reviewsTotal.inc({ result: 'invalid' });
        badRequest(res, 400, `malformed AdmissionReview: ${err.message}`);
      } else {
        reviewsTotal.inc({ result: 'error' });
        log.error('admission review failed', { err });
        status(res, 500, 'InternalError', 'the webhook failed to evaluate the review');
      }
    },
  );
  return app;
}

/** Times the review and answers a refusal when the deadline passes first. */
function startDeadline(deadlineMs: number, log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const end = reviewSeconds.startTimer();
    const timer = setTimeout(() => {
      if (res.headersSent) return;
      reviewsTotal.inc({ result: 'error' });
      const uid = (res.locals.body as { request?: { uid?: unknown } } | undefined)?.request?.uid;
      const message = `tenantgate's webhook could not decide within ${deadlineMs} ms; the change is not let through — retry`;
      log.warn('admission deadline exceeded', { uid, deadlineMs });
      if (typeof uid === 'string') res.status(200).json(errorResponse(uid, 504, message));
      else status(res, 504, 'Timeout', message);
    }, deadlineMs);
    res.on('finish', () => {
      clearTimeout(timer);
      end();
    });
    res.on('close', () => clearTimeout(timer));
    next();
  };
}

function badRequest(res: Response, code: 400 | 413, message: string): void {
  status(res, code, code === 413 ? 'RequestEntityTooLarge' : 'BadRequest', message);
}

/** A metav1.Status body, as the API server would show it. */
function status(res: Response, code: number, reason: string, message: string): void {
  res.status(code).json({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
}
