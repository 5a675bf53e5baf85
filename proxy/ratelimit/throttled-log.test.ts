import { describe, expect, it } from 'vitest';
import type { Logger } from '../../lib/logger.ts';
import { throttledLog } from './throttled-log.ts';

describe('throttledLog', () => {
  it('logs at most once per interval and reports how many lines it held back', () => {
    const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
    const logger = {
      log: (level: string, message: string, fields: Record<string, unknown>) =>
        lines.push({ level, message, fields }),
    };
    let now = 0;
    let built = 0;
    const log = throttledLog({
      logger: logger as unknown as Logger,
      level: 'warn',
      intervalMs: 1_000,
      clock: () => now,
    });
    const fields = () => {
      built++;
      return { store: 'redis' };
    };
    for (let i = 0; i < 100; i++) {
      log('store unavailable', fields);
      now += 25; // 100 calls over 2.5 s
    }
    expect(lines.map((l) => l.fields.suppressed)).toEqual([0, 39, 39]);
    expect(lines[0]).toEqual({
      level: 'warn',
      message: 'store unavailable',
      fields: { store: 'redis', suppressed: 0 },
    });
    expect(built).toBe(3); // held-back lines build nothing
  });
});
