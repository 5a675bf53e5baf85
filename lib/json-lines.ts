// The lines of a streamed body (a watch: one JSON event per line), as they arrive; blank lines skipped.
// Destroys the body when the reader stops.
import type { Readable } from 'node:stream';

export async function* streamLines(body: Readable): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  try {
    for await (const chunk of body) {
      buffered += decoder.decode(chunk as Buffer, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) yield line;
      }
    }
  } finally {
    body.destroy();
  }
}
