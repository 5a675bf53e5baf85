// The part every admission benchmark shares: a webhook server on a throwaway certificate, driven by the
// load generator (load.ts) in its own process so that the two do not share a core.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ephemeralCertificates } from '../../webhooks/certs.ts';
import type { AdmissionHandler } from '../../webhooks/handler.ts';
import { startWebhookServer } from '../../webhooks/server.ts';

/** what load.ts prints: reviews answered, failures, and latencies in ms */
export interface LoadResult {
  count: number;
  errors: number;
  seconds: number;
  p50: number;
  p90: number;
  p99: number;
  /** CPU time of the load generator itself */
  cpuSeconds?: number;
}

export interface LoadRun extends LoadResult {
  /** CPU time of this process (the server) while the load ran */
  cpuSeconds: number;
  /** CPU time of the load generator */
  loadCpuSeconds: number;
}

export interface LoadDriver {
  /**
   * Serves `handler` over HTTPS and drives it with the reviews in `bodiesFile` (a JSON array of bodies)
   * for `seconds` at `concurrency`; throws when any review failed.
   */
  run(handler: AdmissionHandler, bodiesFile: string, seconds: number, concurrency: number): Promise<LoadRun>;
}

/** Makes the certificate (its CA bundle goes to `dir`/ca.pem for the load generator). */
export async function loadDriver(dir: string): Promise<LoadDriver> {
  const certs = await ephemeralCertificates(['127.0.0.1']);
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, certs.caBundlePem);
  return {
    async run(handler, bodiesFile, seconds, concurrency) {
      const server = await startWebhookServer({
        handler,
        address: '127.0.0.1:0',
        certPem: certs.certPem,
        keyPem: certs.keyPem,
        deadlineMs: 3000,
      });
      try {
        const cpu = process.cpuUsage();
        const { stdout } = await promisify(execFile)(process.execPath, [
          join(import.meta.dirname, 'load.ts'),
          `https://127.0.0.1:${server.port}/validate`,
          caFile,
          bodiesFile,
          String(seconds),
          String(concurrency),
        ]);
        const used = process.cpuUsage(cpu);
        const result = JSON.parse(stdout) as LoadResult;
        if (result.errors) throw new Error(`${result.errors} reviews failed`);
        return {
          ...result,
          cpuSeconds: (used.user + used.system) / 1e6,
          loadCpuSeconds: result.cpuSeconds ?? 0,
        };
      } finally {
        await server.close();
      }
    },
  };
}
