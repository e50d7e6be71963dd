import { Worker } from 'node:worker_threads';
import { PulseError, type ErrorCode } from '../errors.js';
import type { EventMediaType, SourceItem } from '../sources/index.js';
import type { PreparedBatch } from './prepare.js';

export type PrepareInput =
  | { readonly kind: 'items'; readonly items: readonly SourceItem[] }
  | {
      readonly kind: 'body';
      readonly mediaType: EventMediaType;
      readonly text: string;
      readonly maxEvents: number;
    };

export type PrepareRequest = PrepareInput & { readonly id: number };

export type PrepareResponse =
  | { readonly id: number; readonly ok: true; readonly batch: PreparedBatch }
  | {
      readonly id: number;
      readonly ok: false;
      readonly error: { code: ErrorCode; message: string; field: string | undefined };
    };

/**
 * Worker threads that parse, validate and tokenise batches, so the main thread is left with HTTP
 * and the DuckDB appends. Requests go round-robin; each worker answers in order.
 */
export class PreparePool {
  readonly #workers: Worker[];
  readonly #waiting = new Map<
    number,
    { resolve: (batch: PreparedBatch) => void; reject: (error: unknown) => void }
  >();
  #nextId = 0;
  #next = 0;
  #failure: Error | undefined;

  constructor(options: { tokenKey: string; workers: number }) {
    const url = new URL('./prepare-worker.js', import.meta.url);
    this.#workers = Array.from({ length: options.workers }, () => {
      const worker = new Worker(url, { workerData: { tokenKey: options.tokenKey } });
      worker.on('message', (response: PrepareResponse) => this.#settle(response));
      worker.on('error', (error) => this.#fail(error));
      worker.on('exit', (code) => {
        if (code !== 0) this.#fail(new Error(`a prepare worker exited with code ${code}`));
      });
      return worker;
    });
  }

  prepare(input: PrepareInput): Promise<PreparedBatch> {
    if (this.#failure) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    const worker = this.#workers[this.#next++ % this.#workers.length] as Worker;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage({ ...input, id } satisfies PrepareRequest);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }

  #settle(response: PrepareResponse): void {
    const waiting = this.#waiting.get(response.id);
    if (!waiting) return;
    this.#waiting.delete(response.id);
    if (response.ok) waiting.resolve(response.batch);
    else
      waiting.reject(
        new PulseError(response.error.code, response.error.message, { field: response.error.field }),
      );
  }

  #fail(error: Error): void {
    this.#failure = error;
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#waiting.clear();
  }
}
