import type { RunResult } from '../models/index.js';

export interface RefreshLoopOptions {
  /** Runs the models once (incrementally). */
  readonly run: () => Promise<RunResult>;
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
  lastResult: RunResult | undefined;
  lastError: unknown;

  constructor(options: RefreshLoopOptions) {
    this.#options = options;
  }

  /** A commit happened: schedule a run. */
  request(): void {
    if (this.#stopped) return;
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
          this.lastResult = await this.#options.run();
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
