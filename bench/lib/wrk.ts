// Reads wrk's --latency output: req/s, p50 and p99 in milliseconds, and the count of non-2xx/3xx answers.
import fs from 'node:fs';

export interface Wrk {
  rps: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
}

/** "812.00us", "1.20ms", "2.01s" in milliseconds; NaN for anything else. */
export function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

export function parseWrk(file: string): Wrk {
  const text = fs.readFileSync(file, 'utf8');
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]),
    p50ms: toMs(/^\s+50%\s+(\S+)/m.exec(text)?.[1] ?? ''),
    p99ms: toMs(/^\s+99%\s+(\S+)/m.exec(text)?.[1] ?? ''),
    non2xx: Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0),
  };
}
