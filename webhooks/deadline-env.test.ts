import { describe, expect, it } from 'vitest';
import { deadlineFromEnv } from './index.ts';

describe('TENANTGATE_WEBHOOK_DEADLINE_MS', () => {
  it('defaults to 3000 and takes a value inside the registration timeout', () => {
    expect(deadlineFromEnv({})).toBe(3000);
    expect(deadlineFromEnv({ TENANTGATE_WEBHOOK_DEADLINE_MS: '4500' })).toBe(4500);
  });

  it('refuses a value the API server would not wait for, naming the variable and the range', () => {
    for (const bad of ['5000', '100', '2.5s', '3000.5'])
      expect(() => deadlineFromEnv({ TENANTGATE_WEBHOOK_DEADLINE_MS: bad })).toThrow(
        `TENANTGATE_WEBHOOK_DEADLINE_MS=${bad} is not a whole number of milliseconds from 500 to 4500`,
      );
  });
});
