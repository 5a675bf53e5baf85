// Returning memory after a reload. Compiling a large snapshot allocates a burst of short-lived objects;
// V8 grows the heap (the young generation to its maximum) for it and keeps the pages committed long after,
// so a proxy with 10,000 routes would sit at twice the memory it needs. One full, memory-reducing
// collection after a reload gives them back.
import v8 from 'node:v8';
import vm from 'node:vm';

type GcFn = (options?: {
  type?: 'major' | 'minor';
  execution?: 'sync' | 'async';
  flavor?: 'regular' | 'last-resort';
}) => void;

let gcFn: GcFn | undefined | null;

function gc(): GcFn | null {
  if (gcFn !== undefined) return gcFn;
  try {
    // --expose-gc set at runtime only exposes gc() to contexts created afterwards
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as GcFn;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/** Runs a full collection soon (off the current stack) when the runtime allows it; otherwise nothing. */
export function compactHeapSoon(): void {
  const fn = gc();
  if (!fn) return;
  setImmediate(() => {
    try {
      // 'last-resort' also shrinks the young generation, which the burst grew to its maximum
      fn({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    } catch {
      // an older runtime without options: the plain form
      (fn as () => void)();
    }
  }).unref();
}
