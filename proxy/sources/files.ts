// The from-files input source: reads DIR into ProxyInputs, then watches it (fs.watch, plus a slow poll
// because editors and atomic renames sometimes slip past the watcher) and emits a new snapshot after
// each burst of changes settles.
import fs from 'node:fs';
import { debounce, LatestWins, type Debounced } from '../../lib/async.ts';
import { componentLogger } from '../../lib/logger.ts';
import { defineError } from '../../lib/errors.ts';
import { inputsFromObjects, type ProxyInputs } from '../model/inputs.ts';
import { ManifestReader } from './read-manifests.ts';
import type { InputSource } from './source.ts';

export const ManifestDirError = defineError(
  'TG_PROXY_MANIFEST_DIR',
  'cannot read --from-files directory %s: %s',
);

const log = componentLogger('proxy.files');

export interface FileSourceOptions {
  dir: string;
  debounceMs?: number;
  pollMs?: number;
}

export function fileSource(options: FileSourceOptions): InputSource {
  const reader = new ManifestReader(options.dir);
  const debounceMs = options.debounceMs ?? 50;
  const pollMs = options.pollMs ?? 2000;
  let watcher: fs.FSWatcher | undefined;
  let poll: NodeJS.Timeout | undefined;
  let schedule: Debounced | undefined;
  let reloads: LatestWins<void> | undefined;
  let stopped = false;

  const load = async (emit: (inputs: ProxyInputs) => void, force: boolean) => {
    const result = await reader.read();
    for (const p of result.problems)
      log.warn('manifest not loaded; keeping its last good version', { problem: p });
    if (!result.changed && !force) return;
    const { inputs, ignored } = inputsFromObjects(result.objects);
    if (ignored.length)
      log.debug('ignoring objects of kinds the proxy does not read', { count: ignored.length });
    emit(inputs);
  };

  return {
    name: `files:${options.dir}`,
    async start(emit) {
      try {
        await fs.promises.access(options.dir, fs.constants.R_OK);
        await load(emit, true);
      } catch (err) {
        throw new ManifestDirError([options.dir, (err as Error).message], { cause: err });
      }
      // a burst of file events settles into one read; reads run one at a time, the latest request winning
      const runner = new LatestWins<void>(() => load(emit, false), {
        onError: (err) => log.error('reading manifests failed', { dir: options.dir, err }),
      });
      reloads = runner;
      const settle = debounce(() => runner.offer(), debounceMs);
      schedule = settle;
      const onChange = () => void (stopped || settle());
      try {
        watcher = fs.watch(options.dir, { recursive: true }, onChange);
        watcher.on('error', (err) =>
          log.warn('watching the manifest directory failed; polling only', { err }),
        );
      } catch (err) {
        log.warn('cannot watch the manifest directory; polling only', { err });
      }
      poll = setInterval(onChange, pollMs);
      poll.unref();
    },
    async stop() {
      stopped = true;
      schedule?.cancel();
      clearInterval(poll);
      watcher?.close();
      await reloads?.idle();
    },
  };
}
