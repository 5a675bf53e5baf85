// A real Prometheus (bin/prometheus, built by `make tools` from test/tools/prometheus) for tests: its own
// port, data directory and config, scraping every second, and a small client for its HTTP API.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from '../../kube/envtest/ports.ts';
import { projectRoot } from '../../kube/envtest/paths.ts';
import type { PromNode } from './promql-ast.ts';

export interface ScrapeJob {
  job: string;
  target: string;
  /** added to every series of the job, as Kubernetes service discovery would (namespace, pod) */
  labels: Record<string, string>;
}

export interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

export interface ActiveAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

export interface Prometheus {
  readonly url: string;
  /** an instant query; throws with Prometheus's error (e.g. a parse error) */
  query(promql: string): Promise<PromSeries[]>;
  /** Prometheus's own parse of an expression; throws with its parse error */
  parse(promql: string): Promise<PromNode>;
  metricNames(): Promise<string[]>;
  alerts(): Promise<ActiveAlert[]>;
  stop(): Promise<void>;
}

export const prometheusBinary = join(projectRoot, 'bin/prometheus');
export const promtoolBinary = join(projectRoot, 'bin/promtool');

export async function startPrometheus(options: {
  dir: string;
  jobs: ScrapeJob[];
  /** a Prometheus rules file (groups: ...) */
  rulesFile?: string;
}): Promise<Prometheus> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const config = {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    ...(options.rulesFile ? { rule_files: [options.rulesFile] } : {}),
    scrape_configs: options.jobs.map((j) => ({
      job_name: j.job,
      static_configs: [{ targets: [j.target], labels: j.labels }],
    })),
  };
  mkdirSync(options.dir, { recursive: true });
  const configFile = join(options.dir, 'prometheus.yml');
  writeFileSync(configFile, stringify(config));
  let log = '';
  const child: ChildProcess = spawn(
    prometheusBinary,
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(options.dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr!.on('data', (c: Buffer) => (log += c));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  /** GET without params, else POST (the form Prometheus accepts for long queries) */
  const api = async <T>(path: string, params?: Record<string, string>): Promise<T> => {
    const res = await fetch(
      `${url}${path}`,
      params ? { method: 'POST', body: new URLSearchParams(params) } : undefined,
    );
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(body.error ?? `${path}: HTTP ${res.status}`);
    return body.data;
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`prometheus did not become ready on ${url}:\n${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url,
    query: async (promql) => (await api<{ result: PromSeries[] }>('/api/v1/query', { query: promql })).result,
    parse: (promql) => api<PromNode>('/api/v1/parse_query', { query: promql }),
    metricNames: () => api<string[]>('/api/v1/label/__name__/values'),
    alerts: async () => (await api<{ alerts: ActiveAlert[] }>('/api/v1/alerts')).alerts,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
