// The dispatcher contract between the pipeline (forward.ts, mirrors) and an upstream connection pool: the
// subset of undici's Dispatcher the proxy uses, so that our HTTP/1.1 pool and undici's H2CClient are
// interchangeable. Handlers get a controller first in every callback (undici's new-style handler API).

/** Response header (or trailer) fields: lower-case names; a repeated name has an array of its values. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

export type RequestBody = Buffer | NodeJS.ReadableStream | AsyncIterable<Buffer> | null;

export interface UpstreamRequest {
  method: string;
  /** origin-form target: path and query */
  path: string;
  /** flat [name, value, ...] list, sent in this order */
  headers: string[];
  body: RequestBody;
}

export interface UpstreamController {
  readonly aborted: boolean;
  readonly paused: boolean;
  readonly reason: Error | null;
  /** ends the exchange: the handler's onResponseError gets `reason`; the connection is not reused */
  abort(reason: Error): void;
  /** stops reading the response until resume() (backpressure) */
  pause(): void;
  resume(): void;
}

export interface UpstreamHandler {
  onRequestStart?(controller: UpstreamController, context: unknown): void;
  /** header names are lower case; a repeated name has an array of its values */
  onResponseStart?(
    controller: UpstreamController,
    statusCode: number,
    headers: ResponseHeaders,
    statusMessage?: string,
  ): void;
  onResponseData?(controller: UpstreamController, chunk: Buffer): void;
  /**
   * `lastChunk`: the body's last bytes, when they arrived in the same read as the end (our HTTP/1.1 pool;
   * undici never passes it). They are body data like any onResponseData chunk, handed here so that the
   * handler can finish with one write.
   */
  onResponseEnd?(controller: UpstreamController, trailers: ResponseHeaders, lastChunk?: Buffer): void;
  onResponseError?(controller: UpstreamController, error: Error): void;
}

export interface UpstreamDispatcher {
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): boolean;
  /** graceful: requests in flight (and queued) finish first */
  close(): Promise<void>;
}
