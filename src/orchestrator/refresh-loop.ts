import type { SpanContext } from '@opentelemetry/api';
import type { RunResult } from '../models/index.js';

/** Why a run happens: a commit, with the correlation ids of its requests and its span. */
export interface RefreshCause {
  readonly correlationIds: readonly string[];
  readonly trace?: SpanContext;
}

/** What a run was asked for by: the first causes (bounded) and how many correlation ids in all. */
export interface RunCauses {
  readonly causes: readonly RefreshCause[];
  readonly correlationIdCount: number;
}

/** Causes kept per run: a run triggered by a flood of commits logs the first ones and a count. */
const MAX_CAUSES = 256;

export interface RefreshLoopOptions {
  /** Runs the models once (incrementally). */
  readonly run: (causes: RunCauses) => Promise<RunResult>;
  /** Waits until every batch submitted so far is committed. */
  readonly drained: () => Promise<void>;
  /** Coalesces the commits that arrive within this many ms into one run. */
  readonly debounceMs: number;
  readonly onRun?: (result: RunResult) => void;
  readonly onError?: (error: unknown) => void;
}

/**
 * Keeps the models fresh: every commit asks for a run, runs never overlap, and commits that arrive
 * during a run are picked up by the next one. `refresh()` resolves once a run has started after
 * the call and finished, so everything committed before the call is reflected.
 */
export class RefreshLoop {
  readonly #options: RefreshLoopOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #pending = false;
  #stopped = false;
  #causes: RefreshCause[] = [];
  #correlationIdCount = 0;
  lastResult: RunResult | undefined;
  lastError: unknown;

  constructor(options: RefreshLoopOptions) {
    this.#options = options;
  }

  /** A commit happened (or the clock moved): schedule a run. */
  request(cause?: RefreshCause): void {
    if (this.#stopped) return;
    if (cause) {
      this.#correlationIdCount += cause.correlationIds.length;
      if (this.#causes.length < MAX_CAUSES) this.#causes.push(cause);
    }
    this.#pending = true;
    if (this.#timer || this.#running) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#cycle();
    }, this.#options.debounceMs);
  }

  /** Runs now (after any run in progress) and resolves when the data committed so far is visible. */
  async refresh(): Promise<RunResult | undefined> {
    await this.#options.drained();
    while (this.#running) await this.#running;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#pending = true;
    await this.#cycle();
    if (this.lastError) throw this.lastError;
    return this.lastResult;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#running) await this.#running;
  }

  /** Accepts requests again after `stop()`. */
  restart(): void {
    this.#stopped = false;
  }

  #cycle(): Promise<void> {
    if (this.#running) return this.#running;
    const running = (async () => {
      while (this.#pending && !this.#stopped) {
        this.#pending = false;
        try {
          const causes = { causes: this.#causes, correlationIdCount: this.#correlationIdCount };
          this.#causes = [];
          this.#correlationIdCount = 0;
          this.lastResult = await this.#options.run(causes);
          this.lastError = undefined;
          this.#options.onRun?.(this.lastResult);
        } catch (error) {
          this.lastError = error;
          this.#options.onError?.(error);
        }
      }
    })();
    this.#running = running.finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }
}
