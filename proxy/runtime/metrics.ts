// Proxy metrics on the shared registry: requests by gateway, route, backend and status code, and latency
// histograms by gateway, route and backend. The per-request path only bumps plain numbers in a slot
// memoized per (gateway, route, backend); the Prometheus text is produced from the slots when /metrics is
// scraped (prom-client's own counter and histogram cost a few percent of the proxy's CPU at full load).
import { Counter, Gauge } from 'prom-client';
import { registry } from '../../lib/metrics.ts';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const reloads = new Counter({
  name: 'tenantgate_proxy_reloads_total',
  help: 'Route table reloads, by result (ok: swapped in; error: the inputs could not be compiled, the last table stays)',
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
  // with workers, each serves the same generation: merged, the figure is the highest, not the sum
  aggregator: 'max',
});

export const activeConnections = new Gauge({
  name: 'tenantgate_proxy_client_connections',
  help: 'Open client connections',
  registers: [registry],
});

export class StatsSlot {
  readonly labels: { gateway: string; route: string; backend: string };
  /** status code → requests */
  readonly codes = new Map<number, number>();
  /** non-cumulative bucket counts; the last one is +Inf */
  readonly buckets = new Float64Array(BUCKETS.length + 1);
  sum = 0;
  count = 0;

  constructor(gateway: string, route: string, backend: string) {
    this.labels = { gateway, route, backend };
  }

  record(status: number, seconds: number): void {
    this.codes.set(status, (this.codes.get(status) ?? 0) + 1);
    let i = 0;
    while (i < BUCKETS.length && seconds > (BUCKETS[i] as number)) i++;
    (this.buckets[i] as number)++;
    this.sum += seconds;
    this.count++;
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

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** prom-client accepts any object with name/help/type/get() in a registry; these read the slots. */
const requestsMetric = {
  name: 'tenantgate_proxy_requests_total',
  help: 'Requests handled by the proxy, by gateway, route, backend and response status code',
  type: 'counter',
  aggregator: 'sum',
  get() {
    const values: MetricValue[] = [];
    for (const s of slots.values()) {
      for (const [code, n] of s.codes) values.push({ value: n, labels: { ...s.labels, code: String(code) } });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  },
};

const durationMetric = {
  name: 'tenantgate_proxy_request_duration_seconds',
  help: 'Time from receiving a request to finishing its response, by gateway, route and backend',
  type: 'histogram',
  aggregator: 'sum',
  get() {
    const values: MetricValue[] = [];
    for (const s of slots.values()) {
      if (!s.count) continue;
      let cumulative = 0;
      BUCKETS.forEach((le, i) => {
        cumulative += s.buckets[i] as number;
        values.push({ metricName: `${this.name}_bucket`, value: cumulative, labels: { le, ...s.labels } });
      });
      values.push({ metricName: `${this.name}_bucket`, value: s.count, labels: { le: '+Inf', ...s.labels } });
      values.push({ metricName: `${this.name}_sum`, value: s.sum, labels: s.labels });
      values.push({ metricName: `${this.name}_count`, value: s.count, labels: s.labels });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  },
};

registry.registerMetric(requestsMetric as unknown as Counter);
registry.registerMetric(durationMetric as unknown as Counter);
