// Where ProxyInputs come from: the from-files watcher, a fixed snapshot (tests, embedding), and later
// the informer-backed cluster source. A source calls `emit` with a complete snapshot whenever it changes.
import type { ProxyInputs } from '../model/inputs.ts';

export interface InputSource {
  readonly name: string;
  /** Resolves after the first snapshot was emitted (or rejects if there can be none). */
  start(emit: (inputs: ProxyInputs) => void): Promise<void>;
  stop(): Promise<void>;
  /**
   * The objects as stored right now, status included. Updates that change only status are not emitted
   * (the proxy's own status writes must not trigger a recompile), so the status writer compares with
   * this rather than with the last emitted snapshot. Sources without status to track leave it out.
   */
  current?(): ProxyInputs;
}

/** A source that emits one fixed snapshot; `update` emits a new one (for tests and embedding). */
export function staticSource(initial: ProxyInputs): InputSource & { update(inputs: ProxyInputs): void } {
  let emitFn: ((inputs: ProxyInputs) => void) | undefined;
  let current = initial;
  return {
    name: 'static',
    async start(emit) {
      emitFn = emit;
      emit(current);
    },
    async stop() {
      emitFn = undefined;
    },
    update(inputs) {
      current = inputs;
      emitFn?.(inputs);
    },
  };
}
