import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { parseWorkers } from './count.ts';

describe('parseWorkers', () => {
  it('reads a whole number, and auto as the available parallelism', () => {
    expect(parseWorkers('1')).toBe(1);
    expect(parseWorkers('4')).toBe(4);
    expect(parseWorkers('auto')).toBe(os.availableParallelism());
  });

  it('refuses anything else, naming the flag or variable and what it takes', () => {
    for (const bad of ['0', '-1', '1.5', 'two', '', '257'])
      expect(() => parseWorkers(bad, 'TENANTGATE_PROXY_WORKERS')).toThrow(
        /TENANTGATE_PROXY_WORKERS=.*expected a whole number of workers from 1 to 256, or auto/,
      );
  });
});
