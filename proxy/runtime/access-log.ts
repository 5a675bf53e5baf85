// The JSON access log: one line per request on stdout, sampled (a rate of 0.1 logs about one request in
// ten; errors, status >= 500, are logged whatever the rate so sampling never hides an outage). Query strings and
// header values are not logged: they can carry tokens.

export interface AccessLogEntry {
  gateway?: string;
  listener?: string;
  route?: string;
  rule?: number;
  backend?: string;
  upstream?: string;
  method: string;
  host: string;
  path: string;
  protocol: string;
  status: number;
  durationMs: number;
  client: string;
  error?: string;
}

export interface AccessLogOptions {
  enabled: boolean;
  sampleRate: number;
  write?: (line: string) => void;
}

export class AccessLog {
  readonly #enabled: boolean;
  readonly #rate: number;
  readonly #write: (line: string) => void;

  constructor(options: AccessLogOptions) {
    this.#enabled = options.enabled;
    this.#rate = Math.min(1, Math.max(0, options.sampleRate));
    this.#write = options.write ?? ((line) => void process.stdout.write(line));
  }

  /** Whether this request should be logged; call before building the entry. */
  wants(status: number): boolean {
    if (!this.#enabled) return false;
    return status >= 500 || this.#rate >= 1 || Math.random() < this.#rate;
  }

  log(entry: AccessLogEntry): void {
    this.#write(`${JSON.stringify({ time: new Date().toISOString(), type: 'access', ...entry })}\n`);
  }
}
