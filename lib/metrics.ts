// One Prometheus registry per process, shared by every component, with Node's default metrics.
import { collectDefaultMetrics, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'tenantgate_' });

type Collector = () => Promise<string>;
let collector: Collector | undefined;

/**
 * Replaces what /metrics serves (undefined: back to this registry). A proxy with worker processes
 * installs one that merges the workers' registries with this one.
 */
export function setMetricsCollector(c: Collector | undefined): void {
  collector = c;
}

/** The Prometheus text /metrics serves. */
export function collectMetrics(): Promise<string> {
  return collector ? collector() : registry.metrics();
}
