import type { DuckDBConnection } from '@duckdb/node-api';

export interface SlaBreach {
  /** The job: `refresh` (the continuous loop) or a configured job's name. */
  readonly job: string;
  readonly runId: string | null;
  readonly at: Date;
  readonly slaMs: number;
  readonly actualMs: number;
  readonly detail: string;
}

export type SlaListener = (breach: SlaBreach) => void;

/**
 * Where SLA breaches go: a row in pulse_sla_breaches, a metric, and the in-process listeners
 * (alerting subscribes here). Recording never throws into the job that breached.
 */
export class SlaMonitor {
  readonly #connection: DuckDBConnection;
  readonly #count: (job: string) => void;
  readonly #log: (message: string, error: unknown) => void;
  readonly #listeners = new Set<SlaListener>();
  #writes: Promise<void> = Promise.resolve();

  constructor(
    connection: DuckDBConnection,
    count: (job: string) => void,
    log: (message: string, error: unknown) => void,
  ) {
    this.#connection = connection;
    this.#count = count;
    this.#log = log;
  }

  /** Calls `listener` on every breach; returns the function that unsubscribes it. */
  onBreach(listener: SlaListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Checks a job's duration against its SLA; a breach is recorded and announced. */
  check(
    job: string,
    slaMs: number | undefined,
    actualMs: number,
    runId: string | null,
    detail: string,
  ): SlaBreach | undefined {
    if (slaMs === undefined || actualMs <= slaMs) return undefined;
    const breach: SlaBreach = { job, runId, at: new Date(), slaMs, actualMs, detail };
    this.#count(job);
    this.#writes = this.#writes.then(() =>
      this.#connection
        .run(`INSERT INTO pulse_sla_breaches VALUES ($job, $run, $at, $sla, $actual, $detail)`, {
          job,
          run: runId,
          at: breach.at.toISOString(),
          sla: slaMs,
          actual: actualMs,
          detail,
        } as never)
        .then(
          () => undefined,
          (error: unknown) => this.#log('could not record an SLA breach', error),
        ),
    );
    for (const listener of this.#listeners) {
      try {
        listener(breach);
      } catch (error) {
        this.#log('an SLA breach listener failed', error);
      }
    }
    return breach;
  }

  /** Resolves once the breaches so far are in the warehouse. */
  async flush(): Promise<void> {
    await this.#writes;
  }
}
