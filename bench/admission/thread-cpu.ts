// Where a benchmark's CPU goes, per thread of this process (grouped by thread name: the event loop,
// each named worker thread, libuv's pool, V8's helpers) and for the local PostgreSQL server's processes,
// from /proc (Linux): the clock ticks each has used. A difference of two samples is the CPU a run took.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux architecture Node supports

export type CpuSample = Map<string, number>;

/** CPU seconds used so far, by group: thread names of this process, and `postgres` (every such process). */
export function sampleCpu(): CpuSample {
  const out: CpuSample = new Map();
  const add = (group: string, seconds: number) => out.set(group, (out.get(group) ?? 0) + seconds);
  for (const tid of list('/proc/self/task')) {
    const t = stat(`/proc/self/task/${tid}/stat`);
    if (t) add(group(t.comm), t.seconds);
  }
  for (const pid of list('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const p = stat(`/proc/${pid}/stat`);
    if (p?.comm === 'postgres') add('postgres', p.seconds);
  }
  return out;
}

/** after - before, by group */
export function cpuUsed(before: CpuSample, after: CpuSample): CpuSample {
  const out: CpuSample = new Map();
  for (const [k, v] of after) out.set(k, Math.max(0, v - (before.get(k) ?? 0)));
  return out;
}

function group(comm: string): string {
  if (comm === 'MainThread') return 'main';
  if (comm.startsWith('libuv-worker')) return 'libuv';
  if (comm === 'V8Worker' || comm.startsWith('DelayedTask')) return 'v8';
  return comm;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function stat(path: string): { comm: string; seconds: number } | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  // "pid (comm) state ppid ..." — comm may hold spaces and parentheses: split at the last ')'
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  return { comm, seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
}
