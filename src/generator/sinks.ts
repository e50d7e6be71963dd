/**
 * Where generated events go: an NDJSON file or stream (written in large chunks, honouring
 * backpressure), or a running Pulse (`POST {url}/v1/events`, NDJSON batches, bounded concurrency,
 * retries on 429/503 honouring Retry-After).
 */
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import type { CloudEvent } from '../contracts/types.js';

/** A sync or async sequence of events (generateEvents gives a sync one). */
export type EventSource = Iterable<CloudEvent> | AsyncIterable<CloudEvent>;

/** Events as NDJSON: one JSON object per line, each line ended by `\n`. */
export function toNdjson(events: readonly CloudEvent[]): string {
  let text = '';
  for (const event of events) text += JSON.stringify(event) + '\n';
  return text;
}

export interface WriteNdjsonOptions {
  /** Called after each chunk with the running totals. */
  onProgress?(events: number, bytes: number): void;
  /** Characters gathered before each write (default 256 KiB). */
  chunkSize?: number;
}

export interface WriteResult {
  events: number;
  bytes: number;
}

function isAsyncIterable(source: EventSource): source is AsyncIterable<CloudEvent> {
  return typeof (source as AsyncIterable<CloudEvent>)[Symbol.asyncIterator] === 'function';
}

/** Waits for 'drain', failing if the stream errors or closes first. */
function drained(out: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      out.off('drain', onDrain);
      out.off('error', onError);
      out.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new Error('the output stream closed before all events were written'));
    };
    out.on('drain', onDrain);
    out.on('error', onError);
    out.on('close', onClose);
  });
}

/**
 * Writes events as NDJSON to a writable stream, in chunks, waiting for 'drain' whenever the stream
 * asks to. Does not end the stream.
 */
export async function writeNdjson(
  events: EventSource,
  out: Writable,
  options: WriteNdjsonOptions = {},
): Promise<WriteResult> {
  const chunkSize = options.chunkSize ?? 256 * 1024;
  let failure: Error | undefined;
  const onError = (error: Error): void => {
    failure ??= error;
  };
  out.on('error', onError);
  let count = 0;
  let bytes = 0;
  let chunk = '';
  const flush = async (): Promise<void> => {
    if (failure !== undefined) throw failure;
    if (chunk.length === 0) return;
    const text = chunk;
    chunk = '';
    bytes += Buffer.byteLength(text);
    const ok = out.write(text);
    options.onProgress?.(count, bytes);
    if (!ok) await drained(out);
    if (failure !== undefined) throw failure;
  };
  try {
    if (isAsyncIterable(events)) {
      for await (const event of events) {
        chunk += JSON.stringify(event) + '\n';
        count++;
        if (chunk.length >= chunkSize) await flush();
      }
    } else {
      for (const event of events) {
        chunk += JSON.stringify(event) + '\n';
        count++;
        if (chunk.length >= chunkSize) await flush();
      }
    }
    await flush();
  } finally {
    out.off('error', onError);
  }
  return { events: count, bytes };
}

/** Writes events as NDJSON to a file (created or truncated), streamed; resolves once it is flushed. */
export async function writeNdjsonFile(
  events: EventSource,
  path: string,
  options: WriteNdjsonOptions = {},
): Promise<WriteResult> {
  const out = createWriteStream(path, { flags: 'w' });
  try {
    const result = await writeNdjson(events, out, options);
    out.end();
    await finished(out);
    return result;
  } catch (error) {
    out.destroy();
    throw error;
  }
}

export interface PostEventsOptions {
  /** Base URL of a running Pulse, e.g. http://localhost:8080; events go to `{url}/v1/events`. */
  url: string;
  /** Events per request (default 1,000). */
  batchSize?: number;
  /** Requests in flight at once (default 4). */
  concurrency?: number;
  /** Retries of one batch on 429, 503 or a network error before giving up (default 8). */
  maxRetries?: number;
  /** Longest wait before a retry, ms (default 30,000), whatever Retry-After says. */
  maxRetryDelayMs?: number;
  /** Extra request headers, e.g. authorization. */
  headers?: Record<string, string>;
  /** Called after each accepted batch with the running total of events sent. */
  onProgress?(events: number): void;
  signal?: AbortSignal;
  /** The fetch to use (default the global fetch). */
  fetch?: typeof fetch;
}

export interface PostEventsResult {
  events: number;
  batches: number;
  /** Requests retried after a 429, a 503 or a network error. */
  retries: number;
  /** Batches Pulse answered 422 (every event failed its contract and went to quarantine). */
  quarantinedBatches: number;
}

/** A request Pulse refused (not retried, or retried too often). */
export class PostError extends Error {
  readonly status: number | undefined;
  readonly body: string;

  constructor(message: string, status: number | undefined, body = '', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PostError';
    this.status = status;
    this.body = body;
  }
}

/** The wait a Retry-After header asks for (delta-seconds or an HTTP date), in ms; undefined if absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The `{url}/v1/events` endpoint of a Pulse base URL; throws a TypeError if the URL is not http(s). */
export function eventsEndpoint(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`not a valid URL: ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`the URL must be http or https: ${JSON.stringify(url)}`);
  }
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}/v1/events${parsed.search}`;
}

async function* inBatches(events: EventSource, size: number): AsyncGenerator<CloudEvent[]> {
  let batch: CloudEvent[] = [];
  if (isAsyncIterable(events)) {
    for await (const event of events) {
      batch.push(event);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
  } else {
    for (const event of events) {
      batch.push(event);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

/**
 * Posts events to a running Pulse as NDJSON batches, `concurrency` requests at a time. A batch
 * answered 429 or 503 (or failing on the network) is retried after Retry-After (or an exponential
 * backoff with jitter); a 2xx or a 422 (all quarantined) counts as delivered; any other answer
 * stops everything with a PostError.
 */
export async function postEvents(events: EventSource, options: PostEventsOptions): Promise<PostEventsResult> {
  const endpoint = eventsEndpoint(options.url);
  const batchSize = positiveInteger('batchSize', options.batchSize ?? 1000);
  const concurrency = positiveInteger('concurrency', options.concurrency ?? 4);
  const maxRetries = options.maxRetries ?? 8;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
  const doFetch = options.fetch ?? globalThis.fetch;
  const headers = { ...options.headers, 'content-type': 'application/x-ndjson' };
  const result: PostEventsResult = { events: 0, batches: 0, retries: 0, quarantinedBatches: 0 };
  const batches = inBatches(events, batchSize);
  let failure: { error: unknown } | undefined;

  const send = async (batch: CloudEvent[]): Promise<void> => {
    const body = toNdjson(batch);
    for (let attempt = 0; ; attempt++) {
      options.signal?.throwIfAborted();
      let wait: number | undefined;
      let reason: string;
      let status: number | undefined;
      let text = '';
      try {
        const response = await doFetch(endpoint, { method: 'POST', headers, body, signal: options.signal });
        status = response.status;
        text = await response.text().catch(() => '');
        if (response.ok || status === 422) {
          result.events += batch.length;
          result.batches++;
          if (status === 422) result.quarantinedBatches++;
          options.onProgress?.(result.events);
          return;
        }
        if (status !== 429 && status !== 503) {
          throw new PostError(`POST ${endpoint} answered ${status}: ${text.slice(0, 300)}`, status, text);
        }
        wait = retryAfterMs(response.headers.get('retry-after'));
        reason = `answered ${status}`;
      } catch (error) {
        if (error instanceof PostError || options.signal?.aborted) throw error;
        reason = `failed: ${error instanceof Error ? error.message : String(error)}`;
        if (attempt >= maxRetries)
          throw new PostError(`POST ${endpoint} ${reason}`, undefined, '', { cause: error });
      }
      if (attempt >= maxRetries) {
        throw new PostError(`POST ${endpoint} ${reason} after ${attempt + 1} attempts`, status, text);
      }
      const backoff = Math.min(maxRetryDelayMs, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
      result.retries++;
      await sleep(Math.min(maxRetryDelayMs, wait ?? backoff), undefined, { signal: options.signal });
    }
  };

  const worker = async (): Promise<void> => {
    while (failure === undefined) {
      const next = await batches.next();
      if (next.done === true) return;
      try {
        await send(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  if (failure !== undefined) {
    await batches.return(undefined);
    throw failure.error;
  }
  return result;
}

/** An onBatch for live traffic that posts each batch to Pulse (see postEvents). */
export function createHttpSink(options: PostEventsOptions): (events: CloudEvent[]) => Promise<void> {
  eventsEndpoint(options.url);
  return async (events) => {
    await postEvents(events, options);
  };
}
