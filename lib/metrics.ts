// One Prometheus registry per process, shared by every component, with Node's default metrics.
import { collectDefaultMetrics, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'tenantgate_' });
