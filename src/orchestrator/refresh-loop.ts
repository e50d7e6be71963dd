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

/** A committed run waiting for its publication. */
interface Unpublished {
  readonly result: RunResult;
  readonly requestedAt: number | undefined;
}

/** Causes kept per run: a run triggered by a flood of commits logs the first ones and a count. */
const MAX_CAUSES = 256;

export interface RefreshLoopOptions {
  /** Runs the models once (incrementally), recording what triggered the run. */
  readonly run: (trigger: string, causes: RunCauses) => Promise<RunResult>;
  /**
   * Makes a committed run visible (quality gate, live values). It runs beside the next model run,
   * one publication at a time; a model run waits while another committed run waits to be published,
   * so the model runs stay at most one ahead of what is visible.
   */
  readonly publish?: (result: RunResult) => Promise<void>;
  /** Work a publication leaves running that `refresh()` and `stop()` wait for (scoring of warn rules). */
  readonly settled?: () => Promise<void>;
  /** Waits until every batch submitted so far is committed. */
  readonly drained: () => Promise<void>;
  /** Coalesces the commits that arrive within this many ms into one run. */
  readonly debounceMs: number;
  readonly onRun?: (result: RunResult) => void;
  /** A run failed after all its retries. */
  readonly onError?: (error: unknown) => void;
  /** A failed run is tried again after each of these waits (ms) before giving up until the next commit. */
  readonly retryBackoffMs?: readonly number[];
  /** Every commit must be visible within this many ms (from the commit to the end of its publication). */
  readonly slaMs?: number;
  /** Called when a run ends later than `slaMs` after the oldest commit it covers. */
  readonly onSlaBreach?: (actualMs: number, result: RunResult) => void;
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
  /** When the oldest commit not yet covered by a run asked for one. */
  #requestedAt: number | undefined;
  #trigger = 'refresh';
  #causes: RefreshCause[] = [];
  #correlationIdCount = 0;
  /** The committed run waiting for the publication in progress to end: model runs stay one ahead. */
  #unpublished: Unpublished | undefined;
  #publishing: Promise<void> | undefined;
  /** Resolves when the publisher takes the run waiting now (it does when the current publication ends). */
  #taken: Promise<void> = Promise.resolve();
  #take: () => void = () => undefined;
  lastResult: RunResult | undefined;
  lastError: unknown;
  /** The latest publication that failed, until one succeeds. */
  lastPublishError: unknown;

  constructor(options: RefreshLoopOptions) {
    this.#options = options;
  }

  /** A commit happened: schedule a run. */
  request(cause?: RefreshCause): void {
    if (cause) {
      this.#correlationIdCount += cause.correlationIds.length;
      if (this.#causes.length < MAX_CAUSES) this.#causes.push(cause);
    }
    if (this.#stopped) return;
    this.#pending = true;
    this.#requestedAt ??= performance.now();
    if (this.#timer || this.#running) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#cycle();
    }, this.#options.debounceMs);
  }

  /** Runs now (after any run in progress) and resolves when the data committed so far is visible. */
  async refresh(trigger = 'refresh'): Promise<RunResult | undefined> {
    await this.#options.drained();
    while (this.#running) await this.#running;
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#pending = true;
    this.#trigger = trigger;
    await this.#cycle();
    await this.published();
    await this.#options.settled?.();
    if (this.lastError) throw this.lastError;
    if (this.lastPublishError) throw this.lastPublishError;
    return this.lastResult;
  }

  /** Resolves when every run committed so far is published. */
  async published(): Promise<void> {
    while (this.#publishing) await this.#publishing;
  }

  /**
   * Runs `work` (a retry, a rebuild) while no refresh runs: they share the model runner's
   * connection and transaction. Commits that arrive meanwhile are picked up afterwards.
   */
  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    while (this.#running) await this.#running;
    const done = work();
    this.#running = done.then(
      () => undefined,
      () => undefined,
    );
    try {
      return await done;
    } finally {
      this.#running = undefined;
      if (this.#pending && !this.#stopped && !this.#timer) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          void this.#cycle();
        }, this.#options.debounceMs);
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#running) await this.#running;
    await this.published();
    await this.#options.settled?.();
  }

  /** Accepts requests again after `stop()`. */
  restart(): void {
    this.#stopped = false;
  }

  #cycle(): Promise<void> {
    if (this.#running) return this.#running;
    const running = (async () => {
      while (this.#pending && !this.#stopped) {
        // One run ahead of the publications at most: under overload the runs then grow larger
        // instead of more frequent, and their fixed cost stops eating the CPU that ingest needs.
        while (this.#unpublished) await this.#taken;
        this.#pending = false;
        const requestedAt = this.#requestedAt;
        this.#requestedAt = undefined;
        const trigger = this.#trigger;
        this.#trigger = 'refresh';
        try {
          const causes = { causes: this.#causes, correlationIdCount: this.#correlationIdCount };
          this.#causes = [];
          this.#correlationIdCount = 0;
          this.lastResult = await this.#runWithRetries(trigger, causes);
          this.lastError = undefined;
          this.#options.onRun?.(this.lastResult);
          if (this.#options.publish) this.#publish(this.lastResult, requestedAt);
          else this.#checkSla(this.lastResult, requestedAt);
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

  /** Hands a committed run to the publisher: now, or when the publication in progress ends. */
  #publish(result: RunResult, requestedAt: number | undefined): void {
    this.#taken = new Promise((taken) => (this.#take = taken));
    this.#unpublished = { result, requestedAt };
    this.#publishing ??= (async () => {
      for (let item = this.#unpublished; item; item = this.#unpublished) {
        this.#unpublished = undefined;
        this.#take();
        try {
          await this.#options.publish?.(item.result);
          this.lastPublishError = undefined;
          this.#checkSla(item.result, item.requestedAt);
        } catch (error) {
          // The models are committed: the next run publishes them again (a full recompute when stale).
          this.lastPublishError = error;
          this.#options.onError?.(error);
        }
      }
    })().finally(() => {
      this.#publishing = undefined;
    });
  }

  #checkSla(result: RunResult, requestedAt: number | undefined): void {
    const elapsed = requestedAt === undefined ? undefined : performance.now() - requestedAt;
    if (this.#options.slaMs !== undefined && elapsed !== undefined && elapsed > this.#options.slaMs) {
      this.#options.onSlaBreach?.(elapsed, result);
    }
  }

  async #runWithRetries(trigger: string, causes: RunCauses): Promise<RunResult> {
    const waits = this.#options.retryBackoffMs ?? [];
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#options.run(attempt === 0 ? trigger : `${trigger}:retry`, causes);
      } catch (error) {
        const wait = waits[attempt];
        if (wait === undefined || this.#stopped) throw error;
        await new Promise((done) => setTimeout(done, wait));
      }
    }
  }
}
