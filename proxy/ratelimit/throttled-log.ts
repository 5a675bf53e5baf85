// A log line that can fire on every request (Redis down under load) must not flood the log: this emits at
// most one line per interval and says how many it held back.
import type { Logger } from '../../lib/logger.ts';

export interface ThrottledLogOptions {
  logger: Logger;
  level: 'warn' | 'error' | 'info';
  intervalMs?: number;
  /** ms clock (tests inject one) */
  clock?: () => number;
}

/** `fields` may be a function so that callers build nothing when the line is held back. */
export type ThrottledLog = (
  message: string,
  fields?: Record<string, unknown> | (() => Record<string, unknown>),
) => void;

export function throttledLog(options: ThrottledLogOptions): ThrottledLog {
  const interval = options.intervalMs ?? 10_000;
  const clock = options.clock ?? Date.now;
  let last = -Infinity;
  let suppressed = 0;
  return (message, fields = {}) => {
    const now = clock();
    if (now - last < interval) {
      suppressed++;
      return;
    }
    last = now;
    options.logger.log(options.level, message, {
      ...(typeof fields === 'function' ? fields() : fields),
      suppressed,
    });
    suppressed = 0;
  };
}
