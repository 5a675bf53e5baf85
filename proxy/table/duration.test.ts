import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it('reads Gateway API durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('1s')).toBe(1000);
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('0s')).toBe(0);
  });
  it('rejects anything else', () => {
    expect(parseDuration('1.5s')).toBeUndefined();
    expect(parseDuration('10')).toBeUndefined();
    expect(parseDuration('1d')).toBeUndefined();
    expect(parseDuration('1s1s1s1s1s')).toBeUndefined();
    expect(parseDuration(undefined)).toBeUndefined();
  });
});
