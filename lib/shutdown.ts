// Graceful shutdown: on SIGINT/SIGTERM/SIGHUP run the registered closers in reverse order of registration
// (last started, first stopped), once; a second signal exits at once.
import { componentLogger } from './logger.ts';

type Closer = { name: string; close: () => Promise<void> | void };

const closers: Closer[] = [];
let shuttingDown: Promise<void> | undefined;
const log = componentLogger('shutdown');

export function onShutdown(name: string, close: Closer['close']): void {
  closers.push({ name, close });
}

export function shutdown(reason: string): Promise<void> {
  shuttingDown ??= (async () => {
    log.info('shutting down', { reason });
    for (const closer of closers.splice(0).reverse()) {
      try {
        await closer.close();
      } catch (err) {
        log.error('error while stopping', { part: closer.name, err });
      }
    }
  })();
  return shuttingDown;
}

/** Resolves when the process is asked to stop (SIGINT, SIGTERM or SIGHUP) and every closer has run. */
export function untilSignalled(): Promise<void> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      if (shuttingDown) {
        log.warn('second signal: exiting now', { signal });
        process.exit(130);
      }
      void shutdown(signal).then(resolve);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
    // a closed terminal: stop as gracefully (child process groups of their own would not get it)
    process.on('SIGHUP', handler);
  });
}
