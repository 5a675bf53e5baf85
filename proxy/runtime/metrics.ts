// Proxy metrics on the shared registry: requests by gateway, route, backend and status code, and latency
// histograms by gateway, route and backend. Label children are memoized per (gateway, route, backend)
// slot so the hot path does no label hashing.
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../../lib/metrics.ts';

const requests = new Counter({
  name: 'tenantgate_proxy_requests_total',
  help: 'Requests handled by the proxy, by gateway, route, backend and response status code',
  labelNames: ['gateway', 'route', 'backend', 'code'] as const,
  registers: [registry],
});

const duration = new Histogram({
  name: 'tenantgate_proxy_request_duration_seconds',
  help: 'Time from receiving a request to finishing its response, by gateway, route and backend',
  labelNames: ['gateway', 'route', 'backend'] as const,
  buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const reloads = new Counter({
  name: 'tenantgate_proxy_reloads_total',
  help: 'Route table reloads, by result (ok: swapped in; error: the inputs could not be read, the last table stays)',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const tableRoutes = new Gauge({
  name: 'tenantgate_proxy_routes',
  help: 'Routes attached to at least one served listener in the current route table, by kind',
  labelNames: ['kind'] as const,
  registers: [registry],
});

export const tableGeneration = new Gauge({
  name: 'tenantgate_proxy_route_table_generation',
  help: 'Generation of the route table being served (increments on every successful reload)',
  registers: [registry],
});

export const activeConnections = new Gauge({
  name: 'tenantgate_proxy_client_connections',
  help: 'Open client connections',
  registers: [registry],
});

type CounterChild = ReturnType<typeof requests.labels>;
type HistogramChild = ReturnType<typeof duration.labels>;

export class StatsSlot {
  readonly gateway: string;
  readonly route: string;
  readonly backend: string;
  readonly #codes = new Map<number, CounterChild>();
  #histogram: HistogramChild | undefined;

  constructor(gateway: string, route: string, backend: string) {
    this.gateway = gateway;
    this.route = route;
    this.backend = backend;
  }

  record(status: number, seconds: number): void {
    let c = this.#codes.get(status);
    if (c === undefined) {
      c = requests.labels(this.gateway, this.route, this.backend, String(status));
      this.#codes.set(status, c);
    }
    c.inc();
    (this.#histogram ??= duration.labels(this.gateway, this.route, this.backend)).observe(seconds);
  }
}

const slots = new Map<string, StatsSlot>();

/** The memoized slot for a label combination (shared across route-table generations). */
export function statsSlot(gateway: string, route: string, backend: string): StatsSlot {
  const key = `${gateway}\u0000${route}\u0000${backend}`;
  let s = slots.get(key);
  if (s === undefined) {
    s = new StatsSlot(gateway, route, backend);
    slots.set(key, s);
  }
  return s;
}
