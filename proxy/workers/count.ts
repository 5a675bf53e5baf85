// `--workers N|auto`: auto is os.availableParallelism(), which follows the container's CPU limit.
import os from 'node:os';
import { defineError } from '../../lib/errors.ts';

export const WORKERS_ENV = 'TENANTGATE_PROXY_WORKERS';

export const WorkersSettingError = defineError(
  'TG_PROXY_WORKERS_SETTING',
  '%s=%s: expected a whole number of workers from 1 to 256, or auto (one per available CPU)',
);

export function parseWorkers(value: string, from = '--workers'): number {
  if (value === 'auto') return os.availableParallelism();
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new WorkersSettingError([from, value]);
  return n;
}
